import { type Keyset, splitKid, withKid } from '#lib/keysets';
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type {
  AuthorizationError,
  ResponseTarget,
  ValidAuthorizationRequest,
} from './check-authorization-request.js';

/**
 * The authorization transaction between GET /authorize and the consent decision, sealed
 * (AES-256-GCM under a key derived from COOKIE_SEALING_KEYS) into an opaque value the pages carry, so
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
 * Values sealed for one purpose (the authorization transaction, the login session cookie) with
 * AES-256-GCM under HKDF(key, `authz-seal:<purpose>`) of a COOKIE_SEALING_KEYS key, carried as
 * `<kid>.<iv | tag | ciphertext>` (base64url; no key id under the legacy SECRET_PEPPER, as before
 * key ids): sealed under the current key, opened under the key named while it is accepted, so that
 * a new key can become current while what the previous one sealed still opens.
 */
export class Sealer {
  private readonly keys: Keyset;

  constructor(keys: Keyset, purpose: string) {
    this.keys = keys.derive(`authz-seal:${purpose}`);
  }

  /** `iv` is 12 random bytes supplied by the caller. */
  seal(value: unknown, iv: Buffer): string {
    const { kid, key } = this.keys.current;
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return withKid(kid, Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url'));
  }

  /** The sealed value, or null when it was not sealed here, was altered, or has expired. */
  open<T extends { exp: number }>(sealed: unknown, nowMs: number): T | null {
    if (typeof sealed !== 'string' || sealed.length > 16384) return null;
    const { kid, value } = splitKid(sealed);
    const key = this.keys.find(kid)?.key;
    if (key === undefined || value.length < 40 || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
    const raw = Buffer.from(value, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const opened = JSON.parse(text) as T;
      return typeof opened.exp === 'number' && opened.exp > nowMs ? opened : null;
    } catch {
      return null;
    }
  }
}

/**
 * RFC 6749 §10.12: CSRF tokens bound to both the transaction and the browser (its session or its
 * nonce cookie), HMAC-SHA-256 under HKDF(key, `authz-mac:authorization-transaction`) of a CSRF_KEYS
 * key and carried as `<kid>.<mac>`: made under the current key, checked under the key named while it
 * is accepted.
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
