import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { jwksDocument } from './jwks.js';
import { generateKeyMaterial } from './key-material.js';
import type { SigningAlg } from './keyring-events.js';
import { openPrivateJwk } from './sealed-key.js';

const kek = randomBytes(32);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe('JWK Set document (RFC 7517 §5; checklist JWKS-02, JWKS-03)', () => {
  it.each<SigningAlg>(['ES256', 'EdDSA', 'RS256'])(
    '%s: even from a private JWK, only public members are published',
    async (alg) => {
      const material = await generateKeyMaterial(alg, kek);
      const privateJwk = openPrivateJwk(material.sealedPrivateJwk, kek, material.kid);
      const { keys } = jwksDocument([
        { publicJwk: { ...privateJwk, oth: [], ext: true, key_ops: ['sign'] } as JWK },
      ]);
      expect(keys).toHaveLength(1);
      for (const member of PRIVATE_MEMBERS) expect(keys[0]).not.toHaveProperty(member);
      expect(keys[0]).toEqual(material.publicJwk);
    },
  );

  it('publishes kty, kid, use and alg with the public key members (RFC 7517 §4.1-4.5)', async () => {
    const a = await generateKeyMaterial('ES256', kek);
    const b = await generateKeyMaterial('EdDSA', kek);
    const { keys } = jwksDocument([a, b]);
    expect(keys.map((k) => Object.keys(k).sort())).toEqual([
      ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
      ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
    ]);
    expect(new Set(keys.map((k) => k.kid)).size).toBe(2);
  });

  it('refuses to publish a symmetric key (RFC 7518 §6.4)', () => {
    expect(() => jwksDocument([{ publicJwk: { kty: 'oct', k: 'c2VjcmV0' } }])).toThrow(TypeError);
  });

  it('an empty keyring publishes an empty set', () => {
    expect(jwksDocument([])).toEqual({ keys: [] });
  });
});
