import { generateClientId, generateClientSecret, hashSecret, secretMatches } from './secret.js';

const pepper = Buffer.alloc(32, 1);
const otherPepper = Buffer.alloc(32, 2);

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

  it('stores HMAC-SHA-256 under the pepper, never the secret itself', () => {
    const secret = 'my-client-secret';
    const hash = hashSecret(secret, pepper);
    expect(hash).not.toBe(secret);
    expect(hash).not.toContain(secret);
    expect(Buffer.from(hash, 'base64url')).toHaveLength(32);
  });

  it('matches the known HMAC-SHA-256 value (RFC 4231 test case 2)', () => {
    // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
    const expected = Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex');
    expect(hashSecret('what do ya want for nothing?', Buffer.from('Jefe'))).toBe(
      expected.toString('base64url'),
    );
  });

  it('is deterministic for one pepper and differs across peppers', () => {
    expect(hashSecret('s', pepper)).toBe(hashSecret('s', pepper));
    expect(hashSecret('s', pepper)).not.toBe(hashSecret('s', otherPepper));
  });

  it('accepts the right secret', () => {
    expect(secretMatches('s3cret', hashSecret('s3cret', pepper), pepper)).toBe(true);
  });

  it.each([
    ['a wrong secret', 'nope'],
    ['an empty secret', ''],
    ['a prefix', 's3cre'],
    ['a longer secret', 's3cret!'],
    ['a case variant', 'S3CRET'],
    ['a Unicode look-alike', 's3cr\u0435t'],
  ])('refuses %s', (_name, presented) => {
    expect(secretMatches(presented, hashSecret('s3cret', pepper), pepper)).toBe(false);
  });

  it('refuses the right secret under another pepper', () => {
    expect(secretMatches('s3cret', hashSecret('s3cret', otherPepper), pepper)).toBe(false);
  });

  it.each([
    ['shorter', 'AAAA'],
    ['longer', Buffer.alloc(64, 1).toString('base64url')],
    ['empty', ''],
    ['not base64url at all', '!!!'],
  ])(
    'returns false instead of throwing when the stored hash is %s (timingSafeEqual needs equal lengths)',
    (_n, stored) => {
      expect(() => secretMatches('s3cret', stored, pepper)).not.toThrow();
      expect(secretMatches('s3cret', stored, pepper)).toBe(false);
    },
  );

  it('refuses a stored value that is the plain secret rather than its hash', () => {
    const plain = Buffer.alloc(32, 9).toString('base64url');
    expect(secretMatches(plain, plain, pepper)).toBe(false);
  });
});
