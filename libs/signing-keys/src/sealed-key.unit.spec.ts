import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { KeyDecryptionError, openPrivateJwk, sealPrivateJwk, type SealedPrivateJwk } from './sealed-key.js';

const kek = randomBytes(32);
const kid = 'kid-1';
const privateJwk: JWK = { kty: 'EC', crv: 'P-256', x: 'x-coord', y: 'y-coord', d: 'private-scalar', kid };

function flipFirstByte(b64url: string): string {
  const bytes = Buffer.from(b64url, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString('base64url');
}

function expectDecryptionError(open: () => unknown, reason: KeyDecryptionError['reason']): void {
  let thrown: unknown;
  try {
    open();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(KeyDecryptionError);
  expect((thrown as KeyDecryptionError).reason).toBe(reason);
  expect((thrown as KeyDecryptionError).kid).toBe(kid);
}

describe('Private signing keys sealed at rest (AES-256-GCM, NIST SP 800-38D)', () => {
  it('opens what it sealed', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    expect(sealed.alg).toBe('A256GCM');
    expect(openPrivateJwk(sealed, kek, kid)).toEqual(privateJwk);
  });

  it('stores base64url members: a 12-byte IV, a 16-byte tag and no plaintext', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    for (const member of [sealed.iv, sealed.ciphertext, sealed.tag])
      expect(member).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed.iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64url')).toHaveLength(16);
    expect(JSON.stringify(sealed)).not.toContain('private-scalar');
  });

  it('uses a fresh IV for every seal', () => {
    const a = sealPrivateJwk(privateJwk, kek, kid);
    const b = sealPrivateJwk(privateJwk, kek, kid);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('refuses a wrong key encryption key', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    expectDecryptionError(() => openPrivateJwk(sealed, randomBytes(32), kid), 'wrong_key_or_tampered');
  });

  it('refuses a tampered tag', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    const tampered: SealedPrivateJwk = { ...sealed, tag: flipFirstByte(sealed.tag) };
    expectDecryptionError(() => openPrivateJwk(tampered, kek, kid), 'wrong_key_or_tampered');
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    const tampered: SealedPrivateJwk = { ...sealed, ciphertext: flipFirstByte(sealed.ciphertext) };
    expectDecryptionError(() => openPrivateJwk(tampered, kek, kid), 'wrong_key_or_tampered');
  });

  it('refuses a tampered IV', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    const tampered: SealedPrivateJwk = { ...sealed, iv: flipFirstByte(sealed.iv) };
    expectDecryptionError(() => openPrivateJwk(tampered, kek, kid), 'wrong_key_or_tampered');
  });

  it('binds the kid as additional authenticated data: a sealed key moved to another kid does not open', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, 'kid-2');
    expectDecryptionError(() => openPrivateJwk(sealed, kek, kid), 'wrong_key_or_tampered');
  });

  it('refuses a truncated tag', () => {
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    const truncated = Buffer.from(sealed.tag, 'base64url').subarray(0, 12).toString('base64url');
    expectDecryptionError(() => openPrivateJwk({ ...sealed, tag: truncated }, kek, kid), 'malformed');
  });

  it('refuses a key encryption key that is not 32 bytes', () => {
    expect(() => sealPrivateJwk(privateJwk, randomBytes(16), kid)).toThrow(RangeError);
    const sealed = sealPrivateJwk(privateJwk, kek, kid);
    expectDecryptionError(() => openPrivateJwk(sealed, randomBytes(16), kid), 'bad_kek');
  });
});
