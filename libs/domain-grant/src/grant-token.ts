import { keyedHash, type Keyset, splitKid } from '#lib/keysets';
import { randomBytes } from 'node:crypto';
import type { GrantState } from './grant-state.js';

/**
 * Authorization codes and refresh tokens are `<grantId>.<secret>`: the grant id (not secret) says
 * which stream to read, so a redemption costs one stream read and no lookup table; the secret part
 * carries 256 random bits (RFC 6749 §10.10: codes at least 128 bits, refresh tokens at least 256).
 * Only HMAC hashes of the whole value are ever stored (STYLE.md habit 15).
 */
const GRANT_ID = /^[A-Za-z0-9_-]{22}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function newGrantId(): string {
  return randomBytes(16).toString('base64url');
}

export function mintGrantToken(grantId: string): string {
  return `${grantId}.${randomBytes(32).toString('base64url')}`;
}

/** The grant a presented code or refresh token names, or null when it is not one of ours. */
export function grantIdOf(token: string): string | null {
  const dot = token.indexOf('.');
  if (dot !== 22 || token.length !== 66) return null;
  const grantId = token.slice(0, dot);
  return GRANT_ID.test(grantId) && SECRET.test(token.slice(dot + 1)) ? grantId : null;
}

export const grantStreamId = (grantId: string) => `grant-${grantId}`;

/**
 * The only form in which a code or refresh token is stored: HMAC-SHA-256 under a secret-hash key
 * (SECRET_HASH_KEYS), tagged with its key id (`<kid>.<hash>`, none under the legacy SECRET_PEPPER).
 * A new grant's code is hashed under the current key; every later token of the grant under the same
 * key (grantTokenHasher), so that the hashes a grant compares are made alike, and a rotation of the
 * key leaves the grant usable for as long as its key is accepted.
 */
export function hashGrantToken(token: string, keys: Keyset, kid: string = keys.current.kid): string {
  return keyedHash(keys, token, kid);
}

/**
 * How the tokens presented for, and issued by, the grant in `state` are hashed: under the key its
 * code was hashed with. A grant whose key is no longer accepted gets the current key, whose hashes
 * (tagged with another key id) match none of the grant's: its tokens are then invalid_grant.
 */
export function grantTokenHasher(keys: Keyset, state: GrantState): (token: string) => string {
  const kid = state.status === 'none' ? undefined : splitKid(state.grant.codeHash).kid;
  const key = kid === undefined ? undefined : keys.find(kid);
  return (token) => hashGrantToken(token, keys, key?.kid);
}
