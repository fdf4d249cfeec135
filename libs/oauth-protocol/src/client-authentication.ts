import type { PresentedClientCredentials } from '#lib/contracts';
import { invalidClient, invalidRequest } from '#lib/oauth-errors';
import { decodeJwt } from 'jose';
import { isStorableText } from './unicode.js';

/**
 * parseClientAuthentication
 * - RFC 6749 §2.3.1: client_secret_basic (HTTP Basic, id and secret form-urlencoded first, RFC 6749
 *   Appendix B) or client_secret_post (client_id + client_secret in the body); a client MUST NOT
 *   use more than one method in a request.
 * - RFC 6749 §2.3.1, §5.2: a malformed Basic header is invalid_client with
 *   WWW-Authenticate: Basic (401).
 * - A request with client_id alone is a public client (`none`, RFC 7591 §2).
 * - RFC 7523 §2.2 / RFC 7521 §4.2: client_assertion_type (jwt-bearer) + client_assertion is
 *   private_key_jwt; the client is the body client_id or else the assertion's `sub`.
 */
export const JWT_BEARER_CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Form parameters that carry client credentials, which an endpoint strips before its own parameters. */
export const CLIENT_AUTHENTICATION_PARAMETERS = [
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
] as const;

function assertionSubject(assertion: string): string | undefined {
  try {
    const { sub } = decodeJwt(assertion);
    // RFC 7493 §2.1: a `sub` escaping a lone surrogate names no client and travels nowhere.
    return typeof sub === 'string' && sub.length > 0 && isStorableText(sub) ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 6749 §5.2: the challenge of a 401 invalid_client (RFC 7617 §2, §2.1 for charset), at the
 * token endpoint and at introspection and revocation, which authenticate their callers alike.
 */
export const BASIC_CHALLENGE = 'Basic realm="token", charset="UTF-8"';

function basicFailure(description: string) {
  return invalidClient(description, { status: 401, headers: { 'WWW-Authenticate': BASIC_CHALLENGE } });
}

function formDecode(value: string): string {
  try {
    const decoded = decodeURIComponent(value.replace(/\+/g, ' '));
    if (decoded.includes('\u0000')) throw new Error('NUL');
    return decoded;
  } catch {
    throw basicFailure('malformed Basic credentials');
  }
}

export function parseBasicAuthorization(header: string): { clientId: string; clientSecret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (!match) throw basicFailure('malformed Basic credentials');
  let decoded: string;
  try {
    // Bytes that are not UTF-8 are a malformed header (RFC 6749 §5.2, RFC 7617 §2.1), not U+FFFD in an id.
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(
      Buffer.from(match[1]!, 'base64'),
    );
  } catch {
    throw basicFailure('malformed Basic credentials');
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw basicFailure('malformed Basic credentials');
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (clientId === '' || clientSecret === '') throw basicFailure('malformed Basic credentials');
  return { clientId, clientSecret };
}

export function parseClientAuthentication(
  authorization: string | undefined,
  params: Record<string, string>,
): PresentedClientCredentials | null {
  const bodyId = params.client_id;
  const bodySecret = params.client_secret;
  const assertion = params.client_assertion;
  const assertionType = params.client_assertion_type;
  if (assertion !== undefined || assertionType !== undefined) {
    // RFC 6749 §2.3: exactly one authentication method per request.
    if ((authorization !== undefined && authorization !== '') || bodySecret !== undefined)
      throw invalidRequest('only one client authentication method may be used');
    if (assertionType !== JWT_BEARER_CLIENT_ASSERTION_TYPE)
      throw invalidClient('unsupported client assertion type');
    if (assertion === undefined || assertion === '') throw invalidRequest('client_assertion is required');
    const clientId = bodyId ?? assertionSubject(assertion);
    if (clientId === undefined || clientId === '') throw invalidClient('client authentication failed');
    return { method: 'private_key_jwt', clientId, clientAssertion: assertion };
  }
  if (authorization !== undefined && authorization !== '') {
    if (!/^Basic /i.test(authorization)) {
      throw basicFailure('unsupported authentication scheme');
    }
    const basic = parseBasicAuthorization(authorization);
    if (bodySecret !== undefined) {
      throw invalidRequest('only one client authentication method may be used');
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw invalidRequest('client_id does not match the authenticated client');
    }
    return { method: 'client_secret_basic', clientId: basic.clientId, clientSecret: basic.clientSecret };
  }
  if (bodyId === undefined) {
    if (bodySecret !== undefined) throw invalidRequest('client_secret without client_id');
    return null;
  }
  if (bodySecret !== undefined) {
    return { method: 'client_secret_post', clientId: bodyId, clientSecret: bodySecret };
  }
  return { method: 'none', clientId: bodyId };
}
