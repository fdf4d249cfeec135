import { invalidRequest, missingToken, type BearerError } from './bearer-error.js';

/** What the guard sees of a request: the Authorization header(s), the URL and a parsed body. */
export interface BearerRequest {
  authorization: string | string[] | undefined;
  /** Path and query as received, e.g. `/api/me?x=1`. */
  url: string;
  body?: unknown;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Takes the access token from a request (RFC 6750 §2).
 * - §2.1: the Authorization header, scheme `Bearer` case-insensitively, one b64token.
 * - §2.3 (URI query) is refused: tokens in URLs leak into logs and Referer headers (RFC 9700 §4.3.2).
 * - §2.2 (form body) is not supported: a body `access_token` is refused, not ignored.
 * - §3.1: more than one method, or a malformed header, is invalid_request; no credentials at all is
 *   a bare 401 challenge.
 */
export function extractBearerToken(request: BearerRequest): { token: string } | { error: BearerError } {
  const query = request.url.includes('?')
    ? new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1))
    : null;
  if (query?.has('access_token')) {
    return {
      error: invalidRequest(
        'access tokens are not accepted in the query string; send them in the Authorization header (RFC 6750 §2.1)',
      ),
    };
  }
  const body = request.body;
  if (body !== null && typeof body === 'object' && 'access_token' in body) {
    return {
      error: invalidRequest(
        'access tokens are not accepted in the request body; send them in the Authorization header (RFC 6750 §2.1)',
      ),
    };
  }
  const header = request.authorization;
  if (header === undefined) return { error: missingToken() };
  if (Array.isArray(header)) {
    return { error: invalidRequest('more than one Authorization header') };
  }
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/.exec(header.trim());
  if (!match) return { error: invalidRequest('malformed Authorization header') };
  const [, scheme, credentials] = match;
  // Another scheme (Basic, DPoP, …): this resource takes bearer tokens only, so no credentials.
  if (scheme!.toLowerCase() !== 'bearer') return { error: missingToken() };
  if (credentials === undefined || !B64TOKEN.test(credentials)) {
    return { error: invalidRequest('malformed Authorization header: expected "Bearer <token>"') };
  }
  return { token: credentials };
}
