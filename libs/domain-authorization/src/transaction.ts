import { type Keyset, splitKid, withKid } from '#lib/keysets';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type {
  AuthorizationError,
  ResponseTarget,
  ValidAuthorizationRequest,
} from './check-authorization-request.js';

/**
 * The authorization transaction between GET /authorize and the consent decision, sealed
 * (a JWE, A256GCM under a key derived from COOKIE_SEALING_KEYS: Sealer) into an opaque value the pages carry, so
 * that nothing is stored for a visitor who never logs in, and a tampered hidden field changes
 * nothing (RFC 6749 §10.14: the decision is bound to the validated request). Single use is decided
 * where it matters, by the event store: the grant id is derived from the transaction, so a second
 * code for one transaction is an expected-version conflict on `grant-<id>` (RFC 6749 §10.12).
 */
export type Transaction =
  | {
      kind: 'authorize';
      /** Random, unique per transaction. */
      id: string;
      /** Expiry, ms since the epoch. */
      exp: number;
      request: ValidAuthorizationRequest;
    }
  | {
      kind: 'authorize-error';
      id: string;
      exp: number;
      /** Delivered by redirect only after the user has logged in (RFC 9700 §4.11.2). */
      target: ResponseTarget;
      error: AuthorizationError;
    }
  | { kind: 'account'; id: string; exp: number };

/**
 * The login session cookie's content (sealed): the session's stream (`session-<sid>`), who logged
 * in, and when. The stream decides whether the session still stands.
 */
export interface LoginSession {
  sid: string;
  sub: string;
  /** ms since the epoch. */
  authTime: number;
  exp: number;
}

/**
 * Values sealed for one purpose (the authorization transaction, the login session cookie) as a
 * compact JWE (RFC 7516 §7.1) by jose: `alg` `dir`, `enc` A256GCM (RFC 7518 §4.5, §5.3) under
 * HKDF(key, `authz-seal:<purpose>`) of a COOKIE_SEALING_KEYS key, named by `kid` in the protected
 * header (authenticated with the content): sealed under the current key, opened under the key named
 * while it is accepted, so that a new key can become current while what the previous one sealed
 * still opens. The consent service alone holds the keys, which is why this is not
 * @fastify/secure-session at the gateway (docs/login-and-consent.md, "Keys and maintained libraries").
 */
export class Sealer {
  private readonly keys: Keyset;

  constructor(keys: Keyset, purpose: string) {
    this.keys = keys.derive(`authz-seal:${purpose}`);
  }

  seal(value: unknown): Promise<string> {
    const { kid, key } = this.keys.current;
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .encrypt(key);
  }

  /** The sealed value, or null when it was not sealed here, was altered, or has expired. */
  async open<T extends { exp: number }>(sealed: unknown, nowMs: number): Promise<T | null> {
    if (typeof sealed !== 'string' || sealed.length > 16384) return null;
    try {
      const { kid } = decodeProtectedHeader(sealed);
      const key = typeof kid === 'string' ? this.keys.find(kid)?.key : undefined;
      if (key === undefined) return null;
      // RFC 8725 §3.1 by analogy: only the algorithms sealed with are accepted.
      const { plaintext } = await compactDecrypt(sealed, key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      const opened = JSON.parse(new TextDecoder().decode(plaintext)) as T | null;
      return typeof opened?.exp === 'number' && opened.exp > nowMs ? opened : null;
    } catch {
      return null;
    }
  }
}

/**
 * RFC 6749 §10.12: CSRF tokens bound to both the transaction and the browser (its session or its
 * nonce cookie), HMAC-SHA-256 under HKDF(key, `authz-mac:authorization-transaction`) of a CSRF_KEYS
 * key and carried as `<kid>.<mac>`: made under the current key, checked under the key named while it
 * is accepted. Checked here, where the transaction opens, not by @fastify/csrf-protection at the
 * gateway, which holds no key (docs/login-and-consent.md, "Keys and maintained libraries").
 */
export class CsrfTokens {
  private readonly keys: Keyset;

  constructor(keys: Keyset) {
    this.keys = keys.derive('authz-mac:authorization-transaction');
  }

  token(transactionId: string, browserBinding: string): string {
    const { kid, key } = this.keys.current;
    return withKid(kid, mac(key, transactionId, browserBinding));
  }

  check(token: unknown, transactionId: string, browserBinding: string | undefined): boolean {
    if (typeof token !== 'string' || browserBinding === undefined || browserBinding === '') return false;
    const { kid, value } = splitKid(token);
    const key = this.keys.find(kid)?.key;
    if (key === undefined) return false;
    const expected = Buffer.from(mac(key, transactionId, browserBinding));
    const actual = Buffer.from(value);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

function mac(key: Buffer, transactionId: string, browserBinding: string): string {
  return createHmac('sha256', key).update(`${transactionId}\n${browserBinding}`).digest('base64url');
}

/**
 * A 22-character grant id derived from the transaction id (single use through grant-<id>, RFC 6749
 * §10.12). No key is needed: the transaction id is 128 random bits that never leave the sealed
 * transaction, and a grant id is public (the first part of every code of the grant).
 */
export function grantIdForTransaction(transactionId: string): string {
  return createHash('sha256')
    .update(`grant\n${transactionId}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}
