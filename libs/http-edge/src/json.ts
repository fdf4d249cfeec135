import { invalidRequest } from '#lib/oauth-errors';
import { isStorableText } from '#lib/oauth-protocol';
import type { FastifyRequest } from 'fastify';

const JSON_TYPE = /^application\/json\s*(;.*)?$/i;

/** Deepest nesting of objects and arrays a metadata document may have (RFC 7591 needs 3). */
export const MAX_JSON_DEPTH = 32;

/**
 * Nesting depth of a parsed JSON value, and whether every key and string is text Postgres can
 * store (no U+0000, no lone surrogate: libs/oauth-protocol unicode.ts), measured without recursion.
 */
export function inspectJson(value: unknown): { depth: number; storable: boolean } {
  let deepest = 0;
  let storable = true;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') storable &&= isStorableText(v);
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      storable &&= isStorableText(key);
      stack.push([child, depth + 1]);
    }
  }
  return { depth: deepest, storable };
}

export const jsonDepth = (value: unknown): number => inspectJson(value).depth;

/** RFC 7591 §3.1, RFC 7592 §2.2: the metadata document is a JSON object (application/json). */
export function readJson(request: FastifyRequest): unknown {
  const contentType = request.headers['content-type'];
  if (typeof contentType !== 'string' || !JSON_TYPE.test(contentType.trim())) {
    throw invalidRequest('the request body must be application/json');
  }
  const body = typeof request.body === 'string' ? request.body : '';
  let document: unknown;
  try {
    document = JSON.parse(body) as unknown;
  } catch {
    throw invalidRequest('the request body is not valid JSON');
  }
  // RFC 7591 §3.2.2, OAuth 2.1 §7.11: a deeply nested document, or a NUL in a string, is refused here,
  // before any service walks or stores it; so is an escaped lone surrogate (`"\ud800"`), which
  // RFC 7493 §2.1 forbids and jsonb refuses.
  const { depth, storable } = inspectJson(document);
  if (depth > MAX_JSON_DEPTH) throw invalidRequest('the JSON document is nested too deeply');
  if (!storable) {
    throw invalidRequest('the JSON document contains a NUL character or a lone surrogate (RFC 7493 §2.1)');
  }
  return document;
}

/** RFC 6750 §2.1: the bearer token of the Authorization header, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(h) : null;
  return m?.[1];
}
