import { Keyset, LEGACY_KID } from '#lib/keysets';
import { createHmac } from 'node:crypto';
import { generateClientId, generateClientSecret, hashSecret, secretMatches } from './secret.js';

const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 1) }]);
const otherKeys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 2) }]);

describe('client secret storage and comparison (checklist STORE-01, STORE-06, REG-01)', () => {
  it('generates 256 random bits, base64url-encoded (REG-01)', () => {
    const secret = generateClientSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });

  it('generates 128-bit client ids that never begin with `-` (a command line would take it for an option)', () => {
    const ids = Array.from({ length: 2000 }, () => generateClientId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('generates a different secret every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateClientSecret()));
    expect(secrets.size).toBe(50);
  });

  it('stores HMAC-SHA-256 under the current key, tagged with its key id, never the secret itself', () => {
    const secret = 'my-client-secret';
    const hash = hashSecret(secret, keys);
    expect(hash).not.toContain(secret);
    expect(hash.startsWith('h1.')).toBe(true);
    expect(Buffer.from(hash.slice(3), 'base64url')).toHaveLength(32);
  });

  it('matches the known HMAC-SHA-256 value (RFC 4231 test case 2) under the legacy key, untagged as before', () => {
    // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
    const expected = Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex');
    const legacy = new Keyset([{ kid: LEGACY_KID, key: Buffer.from('Jefe') }]);
    expect(hashSecret('what do ya want for nothing?', legacy)).toBe(expected.toString('base64url'));
  });

  it('is deterministic for one key and differs across keys', () => {
    expect(hashSecret('s', keys)).toBe(hashSecret('s', keys));
    expect(hashSecret('s', keys)).not.toBe(hashSecret('s', otherKeys));
  });

  it('accepts the right secret', () => {
    expect(secretMatches('s3cret', hashSecret('s3cret', keys), keys)).toBe(true);
  });

  it.each([
    ['a wrong secret', 'nope'],
    ['an empty secret', ''],
    ['a prefix', 's3cre'],
    ['a longer secret', 's3cret!'],
    ['a case variant', 'S3CRET'],
    ['a Unicode look-alike', 's3cr\u0435t'],
  ])('refuses %s', (_name, presented) => {
    expect(secretMatches(presented, hashSecret('s3cret', keys), keys)).toBe(false);
  });

  it('refuses the right secret under another key of the same id', () => {
    expect(secretMatches('s3cret', hashSecret('s3cret', otherKeys), keys)).toBe(false);
  });

  describe('rotation of the secret-hash key', () => {
    const h1 = { kid: 'h1', key: Buffer.alloc(32, 1) };
    const h2 = { kid: 'h2', key: Buffer.alloc(32, 2) };
    const pepper = { kid: LEGACY_KID, key: Buffer.alloc(32, 9) };

    it('a secret hashed under the previous key verifies while that key is accepted, not once it is removed', () => {
      const stored = hashSecret('s3cret', new Keyset([h1]));
      expect(secretMatches('s3cret', stored, new Keyset([h2, h1]))).toBe(true);
      expect(secretMatches('s3cret', stored, new Keyset([h2]))).toBe(false);
    });

    it('a new secret is hashed under the new current key', () => {
      expect(hashSecret('s3cret', new Keyset([h2, h1])).startsWith('h2.')).toBe(true);
    });

    it('a new key can be accepted before it is current (replicas updated one by one)', () => {
      const stored = hashSecret('s3cret', new Keyset([h2, h1]));
      expect(secretMatches('s3cret', stored, new Keyset([h1, h2]))).toBe(true);
    });

    it('a hash stored before key ids existed is the legacy pepper’s, verified while p0 is listed', () => {
      const legacy = createHmac('sha256', pepper.key).update('s3cret').digest('base64url');
      expect(secretMatches('s3cret', legacy, new Keyset([h1, pepper]))).toBe(true);
      expect(secretMatches('s3cret', legacy, new Keyset([h1]))).toBe(false);
      expect(hashSecret('s3cret', new Keyset([pepper]))).toBe(legacy);
    });
  });

  it.each([
    ['shorter', 'AAAA'],
    ['longer', Buffer.alloc(64, 1).toString('base64url')],
    ['empty', ''],
    ['not base64url at all', '!!!'],
    ['under an unknown key id', `h9.${Buffer.alloc(32, 1).toString('base64url')}`],
  ])(
    'returns false instead of throwing when the stored hash is %s (timingSafeEqual needs equal lengths)',
    (_n, stored) => {
      expect(() => secretMatches('s3cret', stored, keys)).not.toThrow();
      expect(secretMatches('s3cret', stored, keys)).toBe(false);
    },
  );

  it('refuses a stored value that is the plain secret rather than its hash', () => {
    const plain = Buffer.alloc(32, 9).toString('base64url');
    expect(secretMatches(plain, plain, keys)).toBe(false);
  });
});
