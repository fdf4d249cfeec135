import type { JWK } from 'jose';
import type { SigningKey } from './keyring-state.js';

/** RFC 7517 §5: a JWK Set. */
export interface JwksDocument {
  keys: JWK[];
}

/**
 * Public members kept per key type; anything else is dropped, so private members (`d`, `p`, `q`, `dp`,
 * `dq`, `qi`, `oth`; RFC 7518 §6.2.2, §6.3.2) can never reach the JWKS.
 */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  // RFC 7518 §6.2.1
  EC: ['crv', 'x', 'y'],
  // RFC 8037 §2
  OKP: ['crv', 'x'],
  // RFC 7518 §6.3.1
  RSA: ['n', 'e'],
};

/** RFC 7517 §4.1-4.5 */
const COMMON_MEMBERS = ['kty', 'kid', 'use', 'alg'] as const;

export function jwksDocument(keys: readonly Pick<SigningKey, 'publicJwk'>[]): JwksDocument {
  return { keys: keys.map((k) => publicOnly(k.publicJwk)) };
}

function publicOnly(jwk: JWK): JWK {
  const members =
    typeof jwk.kty === 'string' && Object.hasOwn(PUBLIC_MEMBERS, jwk.kty)
      ? PUBLIC_MEMBERS[jwk.kty]
      : undefined;
  // RFC 7518 §6.4: a symmetric (oct) key is secret and never published.
  if (members === undefined) throw new TypeError(`refusing to publish a key of type ${String(jwk.kty)}`);
  const out: Record<string, unknown> = {};
  for (const member of [...COMMON_MEMBERS, ...members]) {
    const value = (jwk as Record<string, unknown>)[member];
    if (value !== undefined) out[member] = value;
  }
  return out as JWK;
}
