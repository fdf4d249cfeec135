import { invalidRequest } from '#lib/oauth-errors';
import type { FastifyRequest } from 'fastify';

const JSON_TYPE = /^application\/json\s*(;.*)?$/i;

/** RFC 7591 §3.1, RFC 7592 §2.2: the metadata document is a JSON object (application/json). */
export function readJson(request: FastifyRequest): unknown {
  const contentType = request.headers['content-type'];
  if (typeof contentType !== 'string' || !JSON_TYPE.test(contentType.trim())) {
    throw invalidRequest('the request body must be application/json');
  }
  const body = typeof request.body === 'string' ? request.body : '';
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw invalidRequest('the request body is not valid JSON');
  }
}

/** RFC 6750 §2.1: the bearer token of the Authorization header, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(h) : null;
  return m?.[1];
}
