import { createHash, timingSafeEqual } from 'node:crypto';
import { invalidGrant, invalidRequest } from '#lib/oauth-errors';

/**
 * checkCodeChallenge / checkCodeVerifier (RFC 7636)
 * - §4.2, §4.3: code_challenge_method S256 only (RFC 9700 §2.1.1: `plain` is refused); the
 *   S256 challenge is BASE64URL(SHA256(verifier)), 43 characters.
 * - §4.1: code_verifier = 43*128 unreserved characters.
 * - §4.6: the server recomputes the challenge and compares; a missing,
 *   malformed or wrong verifier, or a verifier where no challenge was sent (downgrade), is invalid_grant.
 */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function checkCodeChallenge(challenge: string | undefined, method: string | undefined): string | null {
  if (challenge === undefined) {
    if (method !== undefined) throw invalidRequest('code_challenge_method without code_challenge');
    return null;
  }
  if (method === undefined || method !== 'S256') {
    throw invalidRequest('code_challenge_method must be S256');
  }
  if (!S256_CHALLENGE.test(challenge)) throw invalidRequest('code_challenge is malformed');
  return challenge;
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function checkCodeVerifier(codeChallenge: string | null, verifier: string | undefined): void {
  if (codeChallenge === null) {
    if (verifier !== undefined) throw invalidGrant('code_verifier sent but no code_challenge was used');
    return;
  }
  if (verifier === undefined) throw invalidGrant('code_verifier is required');
  if (!VERIFIER.test(verifier)) throw invalidGrant('code_verifier is malformed');
  const expected = Buffer.from(codeChallenge, 'ascii');
  const actual = Buffer.from(s256(verifier), 'ascii');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw invalidGrant('code_verifier does not match the code_challenge');
  }
}
