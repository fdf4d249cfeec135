import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type {
  AuthorizationError,
  ResponseTarget,
  ValidAuthorizationRequest,
} from './check-authorization-request.js';

/**
 * The authorization transaction between GET /authorize and the consent decision, sealed
 * (AES-256-GCM under a key derived from SECRET_PEPPER) into an opaque value the pages carry, so
 * that nothing is stored for a visitor who never logs in, and a tampered hidden field changes
 * nothing (checklist UI-08: the decision is bound to the validated request). Single use is decided
 * where it matters, by the event store: the grant id is derived from the transaction, so a second
 * code for one transaction is an expected-version conflict on `grant-<id>` (checklist UI-09).
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
      /** Checklist decision 12: delivered by redirect only after the user has logged in. */
      target: ResponseTarget;
      error: AuthorizationError;
    }
  | { kind: 'account'; id: string; exp: number };

/** The login session cookie's content (sealed): who logged in, and when. */
export interface LoginSession {
  sub: string;
  /** ms since the epoch. */
  authTime: number;
  exp: number;
}

export class Sealer {
  private readonly key: Buffer;
  private readonly macKey: Buffer;

  constructor(pepper: Buffer, purpose: string) {
    this.key = Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), `authz-seal:${purpose}`, 32));
    this.macKey = Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), `authz-mac:${purpose}`, 32));
  }

  /** `iv` is 12 random bytes supplied by the caller. */
  seal(value: unknown, iv: Buffer): string {
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The sealed value, or null when it was not sealed here, was altered, or has expired. */
  open<T extends { exp: number }>(sealed: unknown, nowMs: number): T | null {
    if (typeof sealed !== 'string' || sealed.length < 40 || sealed.length > 16384) return null;
    if (!/^[A-Za-z0-9_-]+$/.test(sealed)) return null;
    const raw = Buffer.from(sealed, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const value = JSON.parse(text) as T;
      return typeof value.exp === 'number' && value.exp > nowMs ? value : null;
    } catch {
      return null;
    }
  }

  /** RFC 6749 §10.12: a CSRF token bound to both the transaction and the browser (session or nonce). */
  csrfToken(transactionId: string, browserBinding: string): string {
    return createHmac('sha256', this.macKey)
      .update(`${transactionId}\n${browserBinding}`)
      .digest('base64url');
  }

  checkCsrf(token: unknown, transactionId: string, browserBinding: string | undefined): boolean {
    if (typeof token !== 'string' || browserBinding === undefined || browserBinding === '') return false;
    const expected = Buffer.from(this.csrfToken(transactionId, browserBinding));
    const actual = Buffer.from(token);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** A 22-character grant id derived from the transaction (single use through grant-<id>). */
  grantIdFor(transactionId: string): string {
    return createHmac('sha256', this.macKey)
      .update(`grant\n${transactionId}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }
}
