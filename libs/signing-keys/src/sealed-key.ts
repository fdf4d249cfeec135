import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * A private JWK encrypted at rest with AES-256-GCM under the key encryption key (KEK). The `kid` is
 * the additional authenticated data, so a sealed key copied onto another key's event does not open.
 * All members are base64url without padding.
 */
export interface SealedPrivateJwk {
  alg: 'A256GCM';
  iv: string;
  ciphertext: string;
  tag: string;
}

export type KeyDecryptionFailure = 'wrong_key_or_tampered' | 'malformed' | 'unsupported_alg' | 'bad_kek';

/** A sealed private key did not open: wrong KEK, wrong kid, or altered iv, ciphertext or tag. */
export class KeyDecryptionError extends Error {
  constructor(
    readonly kid: string,
    readonly reason: KeyDecryptionFailure,
  ) {
    super(`private key ${kid} could not be decrypted (${reason})`);
    this.name = 'KeyDecryptionError';
  }
}

const KEK_BYTES = 32;
// NIST SP 800-38D §8.2: 96-bit IVs; a fresh random one per encryption.
const IV_BYTES = 12;
// NIST SP 800-38D §5.2.1.2: the full 128-bit tag; shorter tags are refused on open.
const TAG_BYTES = 16;

export function sealPrivateJwk(jwk: JWK, kek: Buffer, kid: string): SealedPrivateJwk {
  if (kek.length !== KEK_BYTES) throw new RangeError(`the key encryption key must be ${KEK_BYTES} bytes`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const plaintext = Buffer.from(JSON.stringify(jwk), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return {
    alg: 'A256GCM',
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

export function openPrivateJwk(sealed: SealedPrivateJwk, kek: Buffer, kid: string): JWK {
  if (kek.length !== KEK_BYTES) throw new KeyDecryptionError(kid, 'bad_kek');
  if (sealed.alg !== 'A256GCM') throw new KeyDecryptionError(kid, 'unsupported_alg');
  const iv = Buffer.from(sealed.iv, 'base64url');
  const tag = Buffer.from(sealed.tag, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new KeyDecryptionError(kid, 'malformed');
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([
      decipher.update(Buffer.from(sealed.ciphertext, 'base64url')),
      decipher.final(),
    ]);
  } catch {
    throw new KeyDecryptionError(kid, 'wrong_key_or_tampered');
  }
  try {
    const jwk: unknown = JSON.parse(plaintext.toString('utf8'));
    if (
      typeof jwk !== 'object' ||
      jwk === null ||
      Array.isArray(jwk) ||
      typeof (jwk as JWK).kty !== 'string'
    ) {
      throw new KeyDecryptionError(kid, 'malformed');
    }
    return jwk as JWK;
  } catch {
    throw new KeyDecryptionError(kid, 'malformed');
  } finally {
    plaintext.fill(0);
  }
}
