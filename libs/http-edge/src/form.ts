import type { RequestContext } from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import { type FormParameters, parseFormEncoded, singleValued } from '#lib/oauth-protocol';
import type { FastifyRequest } from 'fastify';

/**
 * Reads an endpoint's form body.
 * - RFC 6749 §3.2, §4.1.3 / OAuth 2.1 §3.2.2: application/x-www-form-urlencoded only (media type
 *   compared case-insensitively, RFC 9110 §8.3.1); JSON, multipart and bodiless requests are
 *   invalid_request (RFC 6749 §5.2).
 */
const FORM = /^application\/x-www-form-urlencoded\s*(;.*)?$/i;

export function readForm(request: FastifyRequest, maxParameters: number): Record<string, string> {
  return singleValued(readFormParameters(request, maxParameters));
}

/** The form's parameters with every value, for endpoints where one parameter may repeat. */
export function readFormParameters(request: FastifyRequest, maxParameters: number): FormParameters {
  const contentType = request.headers['content-type'];
  if (typeof contentType !== 'string' || !FORM.test(contentType.trim())) {
    throw invalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  const body = typeof request.body === 'string' ? request.body : '';
  if (body.trim() === '') throw invalidRequest('the request body is empty');
  return parseFormEncoded(body, { maxParameters });
}

export function authorizationHeader(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  return typeof h === 'string' ? h : undefined;
}

/** What a command carries of the HTTP request it came from (libs/contracts RequestContext). */
export function requestContext(request: FastifyRequest): RequestContext {
  return {
    correlationId: String(request.id),
    ...(request.callerRequestId ? { callerRequestId: request.callerRequestId } : {}),
    ip: request.ip,
  };
}
