import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';

/**
 * Short forms of the @nestjs/swagger decorators the admin controllers share: every operation names
 * its id, its success answer's schema (a `components.schemas` entry, schemas.ts) and its error
 * answers, each the RFC 6749 §5.2 error object.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid_request (or invalid_client_metadata, invalid_redirect_uri for client metadata)',
  401: 'invalid_token: no valid admin bearer (RFC 6750 §3.1)',
  403: 'insufficient_scope: an access token without scope admin (RFC 6750 §3.1)',
  404: 'not_found',
  409: 'invalid_request: the name is taken',
};

/** The operation's id, summary, success answer, and errors (400, 401, 403 and `extra`). */
export function operation(options: {
  id: string;
  summary: string;
  status?: number;
  schema?: string;
  /** The success answer is HTML (the audit timelines). */
  html?: boolean;
  errors?: number[];
}): MethodDecorator {
  const status = options.status ?? 200;
  const success =
    options.schema !== undefined
      ? ApiResponse({ status, description: 'success', schema: ref(options.schema) })
      : options.html
        ? ApiResponse({
            status,
            description: 'a server-rendered page',
            content: { 'text/html': { schema: { type: 'string' } } },
          })
        : ApiResponse({ status, description: 'success, no body' });
  return applyDecorators(
    ApiOperation({ operationId: options.id, summary: options.summary }),
    success,
    ...[400, 401, 403, ...(options.errors ?? [])].map((code) =>
      ApiResponse({
        status: code,
        description: ERROR_DESCRIPTIONS[code] ?? 'error',
        schema: ref('OAuthError'),
      }),
    ),
  );
}

/** A JSON request body of the named schema. */
export function jsonBody(schema: string | Record<string, unknown>, required = true): MethodDecorator {
  return ApiBody({ required, schema: typeof schema === 'string' ? ref(schema) : schema });
}

export function pathParameter(name: string, description: string, pattern?: string): MethodDecorator {
  return ApiParam({
    name,
    description,
    schema: { type: 'string', ...(pattern !== undefined ? { pattern } : {}) },
  });
}

/** `limit` and `after` of a page of clients or users, paged by id. */
export function idPaging(): MethodDecorator {
  return applyDecorators(
    ApiQuery({
      name: 'limit',
      required: false,
      description: 'page size',
      schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
    }),
    ApiQuery({
      name: 'after',
      required: false,
      description: 'the `next` cursor of the previous page',
      schema: { type: 'string', maxLength: 64 },
    }),
  );
}

/** An ISO 8601 instant query parameter. */
export function instantQuery(name: string, description: string): MethodDecorator {
  return ApiQuery({ name, required: false, description, schema: { type: 'string', format: 'date-time' } });
}

/** `limit`, `after` (a global position), `from` and `to` of an audit history page. */
export function historyPaging(): MethodDecorator {
  return applyDecorators(
    ApiQuery({
      name: 'limit',
      required: false,
      description: 'events per page',
      schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    }),
    ApiQuery({
      name: 'after',
      required: false,
      description: 'the `next` position of the previous page',
      schema: { type: 'integer', minimum: 0 },
    }),
    instantQuery('from', 'events recorded at or after this instant'),
    instantQuery('to', 'events recorded before this instant'),
  );
}
