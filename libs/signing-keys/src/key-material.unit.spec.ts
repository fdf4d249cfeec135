import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { generateKeyMaterial } from './key-material.js';
import type { SigningAlg } from './keyring-events.js';
import { KeyDecryptionError, openPrivateJwk } from './sealed-key.js';

const kek = randomBytes(32);

describe('Signing key material (RFC 7517 §4, RFC 7638 kid)', () => {
  it.each<[SigningAlg, Record<string, string>]>([
    ['ES256', { kty: 'EC', crv: 'P-256' }],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
    ['RS256', { kty: 'RSA', e: 'AQAB' }],
  ])('%s: a public JWK with kid, alg and use "sig", and no private member', async (alg, shape) => {
    const material = await generateKeyMaterial(alg, kek);
    expect(material.alg).toBe(alg);
    expect(material.publicJwk).toMatchObject({ ...shape, kid: material.kid, alg, use: 'sig' });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
      expect(material.publicJwk).not.toHaveProperty(member);
  });

  it('kid is the RFC 7638 SHA-256 thumbprint of the public key', async () => {
    const material = await generateKeyMaterial('ES256', kek);
    expect(material.kid).toBe(await calculateJwkThumbprint(material.publicJwk, 'sha256'));
    expect(material.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('RS256 keys are 2048 bits (RFC 7518 §3.3)', async () => {
    const { publicJwk } = await generateKeyMaterial('RS256', kek);
    expect(Buffer.from(publicJwk.n!, 'base64url').length * 8).toBe(2048);
  });

  it('seals the private half under the KEK, bound to the kid', async () => {
    const material = await generateKeyMaterial('EdDSA', kek);
    const privateJwk = openPrivateJwk(material.sealedPrivateJwk, kek, material.kid);
    expect(privateJwk).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      x: material.publicJwk.x,
      kid: material.kid,
    });
    expect(typeof privateJwk.d).toBe('string');
    expect(() => openPrivateJwk(material.sealedPrivateJwk, randomBytes(32), material.kid)).toThrow(
      KeyDecryptionError,
    );
  });

  it('generates a different key every time', async () => {
    const [a, b] = await Promise.all([generateKeyMaterial('ES256', kek), generateKeyMaterial('ES256', kek)]);
    expect(a.kid).not.toBe(b.kid);
  });
});
