import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of personal data (GDPR Art. 17 by crypto-shredding): each person has a
 * random 256-bit data key; every personal field of their events is AES-256-GCM under it; the data
 * key is stored only wrapped (AES-256-GCM) under the key-encryption key. Destroying the wrapped
 * data key makes every sealed field unreadable while the events, and the hash chain over their
 * stored ciphertext, stay as they were.
 */

/** A sealed field: `pd1:` + base64url(iv ‖ ciphertext ‖ tag); ':' is never in a username, and base64url has no '@', which every email has. */
export const SEALED_PREFIX = 'pd1:';
/** What a sealed field reads as once its person's data key is destroyed. */
export const ERASED = '[erased]';
/** What a sealed field reads as when it does not open (altered ciphertext, or another key). */
export const UNREADABLE = '[unreadable]';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

function encrypt(key: Buffer, aad: string, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

function decrypt(key: Buffer, aad: string, sealed: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/**
 * A field value sealed under a data key. The additional data names what the value is (event type
 * and field), so a sealed value moved to another field or event type does not open.
 */
export function sealValue(dataKey: Buffer, aad: string, value: unknown): string {
  return (
    SEALED_PREFIX + encrypt(dataKey, aad, Buffer.from(JSON.stringify(value), 'utf8')).toString('base64url')
  );
}

/** The value of a sealed field, or UNREADABLE when it does not open under this key and `aad`. */
export function openValue(dataKey: Buffer, aad: string, sealed: string): unknown {
  try {
    const plain = decrypt(dataKey, aad, Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url'));
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    return UNREADABLE;
  }
}

/** A data key wrapped under the key-encryption key, bound to its subject. */
export function wrapDataKey(kek: Buffer, sub: string, dataKey: Buffer): Buffer {
  return encrypt(kek, `data-key/${sub}`, dataKey);
}

export function unwrapDataKey(kek: Buffer, sub: string, wrapped: Buffer): Buffer {
  return decrypt(kek, `data-key/${sub}`, wrapped);
}

/** The key of the username index, derived from the key-encryption key (RFC 5869 HKDF-SHA256). */
export function usernameIndexKey(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'authz username index v1', KEY_BYTES));
}

/**
 * The username index entry of a username: HMAC-SHA256 under the index key of the lower-cased
 * name, base64url. Not readable, and not testable against a dictionary without the key.
 */
export function usernameIndexId(indexKey: Buffer, username: string): string {
  return createHmac('sha256', indexKey).update(username.toLowerCase(), 'utf8').digest('base64url');
}
