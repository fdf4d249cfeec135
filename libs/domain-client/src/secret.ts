import { keyedHash, keyedHashMatches, type Keyset } from '#lib/keysets';
import { randomBytes } from 'node:crypto';

/**
 * Client secrets (RFC 6819 §5.1.4.1.3, OAuth 2.1 §7.7): 256 random bits, shown once, stored only as
 * HMAC-SHA-256 under the current secret-hash key, tagged with its key id (`<kid>.<hash>`, none for
 * the legacy SECRET_PEPPER), and checked under the key the stored hash names, in constant time, so
 * that a new key can become current while secrets hashed under the old one still verify.
 */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A generated client_id: 128 random bits, base64url, never beginning with `-`, which command lines
 * (this server's CLI among them) would read as an option.
 */
export function generateClientId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function hashSecret(secret: string, keys: Keyset): string {
  return keyedHash(keys, secret);
}

export function secretMatches(presented: string, storedHash: string, keys: Keyset): boolean {
  return keyedHashMatches(keys, presented, storedHash);
}
