import { OAuthError } from '#lib/oauth-errors';
import type { JsonWebKeySet } from './client-metadata.js';

/** Helpers of the RFC 7591 §2 metadata checks, shared by the normaliser and the decider. */

const MAX_URL_LENGTH = 2000;

export function metadataError(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

export const unique = (values: readonly string[]) => [...new Set(values)];

export function checkUrl(name: string, value: string): void {
  if (value.length > MAX_URL_LENGTH || !/^[\x21-\x7e]+$/.test(value))
    throw metadataError(`${name} must be a URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw metadataError(`${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw metadataError(`${name} must be http(s)`);
  if (url.username !== '' || url.password !== '') throw metadataError(`${name} must not carry userinfo`);
}

/** RFC 7517 §4: a public JWK Set; private members are refused. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export function checkJwks(jwks: unknown): void {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as JsonWebKeySet).keys))
    throw metadataError('jwks must be a JWK Set');
  const keys = (jwks as JsonWebKeySet).keys;
  if (keys.length === 0 || keys.length > 10) throw metadataError('jwks must hold 1 to 10 keys');
  for (const k of keys) {
    if (typeof k !== 'object' || k === null || typeof k.kty !== 'string')
      throw metadataError('every JWK needs a kty');
    if (PRIVATE_JWK_MEMBERS.some((m) => m in k)) throw metadataError('jwks must hold public keys only');
  }
}

export function intIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw metadataError(`${name} must be an integer from ${min} to ${max}`);
}
