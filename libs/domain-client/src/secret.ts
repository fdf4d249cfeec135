import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets (checklist STORE-01, STORE-06): 256 random bits, shown once, stored only as
 * HMAC-SHA-256 under the installation's pepper; compared in constant time.
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

export function hashSecret(secret: string, pepper: Buffer): string {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest('base64url');
}

export function secretMatches(presented: string, storedHash: string, pepper: Buffer): boolean {
  const a = Buffer.from(hashSecret(presented, pepper), 'base64url');
  const b = Buffer.from(storedHash, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
}
