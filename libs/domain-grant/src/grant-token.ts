import { createHmac, randomBytes } from 'node:crypto';

/**
 * Authorization codes and refresh tokens are `<grantId>.<secret>`: the grant id (not secret) says
 * which stream to read, so a redemption costs one stream read and no lookup table; the secret part
 * carries 256 random bits (RFC 6749 §10.10, checklist: codes ≥ 128 bits, refresh tokens ≥ 256).
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

/** The only form in which a code or refresh token is stored: HMAC-SHA-256 under SECRET_PEPPER. */
export function hashGrantToken(token: string, pepper: Buffer): string {
  return createHmac('sha256', pepper).update(token, 'utf8').digest('base64url');
}
