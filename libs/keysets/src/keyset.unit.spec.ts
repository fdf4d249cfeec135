import { createHmac, randomBytes } from 'node:crypto';
import {
  deriveKey,
  keyedHash,
  keyedHashMatches,
  Keyset,
  KeysetError,
  LEGACY_KID,
  parseKeyset,
  splitKid,
  withKid,
} from './keyset.js';

const b64 = (b: Buffer) => b.toString('base64url');
const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const pepper = Buffer.alloc(32, 9);
const parse = (text: string | undefined, legacyKey?: Buffer) =>
  parseKeyset(text, { setting: 'SECRET_HASH_KEYS', ...(legacyKey ? { legacyKey } : {}) });
const error = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(KeysetError);
    return (err as Error).message;
  }
  throw new Error('did not throw');
};

describe('keysets: keys per purpose with key ids', () => {
  describe('reading a setting', () => {
    it('lists kid:key entries, the first current, the others accepted', () => {
      const keys = parse(`h2:${b64(k2)}, h1:${b64(k1)}`);
      expect(keys.current).toEqual({ kid: 'h2', key: k2 });
      expect(keys.kids).toEqual(['h2', 'h1']);
      expect(keys.find('h1')?.key).toEqual(k1);
      expect(keys.find('h3')).toBeUndefined();
    });

    it('unset or empty, is the legacy SECRET_PEPPER alone (an installation that changes nothing)', () => {
      for (const text of [undefined, '', ' , ']) {
        const keys = parse(text, pepper);
        expect(keys.current).toEqual({ kid: LEGACY_KID, key: pepper });
        expect(keys.kids).toEqual([LEGACY_KID]);
      }
    });

    it('names the legacy key as p0 without a key, current or accepted', () => {
      expect(parse(`h1:${b64(k1)},p0`, pepper).kids).toEqual(['h1', 'p0']);
      // Phase one of a rotation: the new key is accepted everywhere before it becomes current.
      expect(parse(`p0,h1:${b64(k1)}`, pepper).current.kid).toBe('p0');
    });

    it.each([
      [
        'p0 without SECRET_PEPPER',
        `h1:${b64(k1)},p0`,
        undefined,
        'names p0, the legacy SECRET_PEPPER, which is not set',
      ],
      ['nothing at all', undefined, undefined, 'SECRET_HASH_KEYS is not set (nor the legacy SECRET_PEPPER)'],
      ['a key for p0', `p0:${b64(k1)}`, pepper, 'p0 is the legacy SECRET_PEPPER; name it without a key'],
      ['a short key', `h1:${b64(Buffer.alloc(16))}`, undefined, 'the key h1 must be 32 bytes, base64url'],
      ['a key that is not base64url', `h1:${'+'.repeat(43)}`, undefined, 'must be 32 bytes, base64url'],
      ['no key', 'h1', undefined, 'the key h1 must be 32 bytes'],
      ['a kid with a dot', `h.1:${b64(k1)}`, undefined, '"h.1" is not a key id'],
      ['a long kid', `${'k'.repeat(17)}:${b64(k1)}`, undefined, 'is not a key id'],
      ['a kid twice', `h1:${b64(k1)},h1:${b64(k2)}`, undefined, 'the key id h1 is listed twice'],
    ])('refuses %s', (_name, text, legacy, message) => {
      expect(error(() => parse(text, legacy))).toContain(message);
    });

    it('never shows a key in an error', () => {
      const key = b64(randomBytes(32));
      expect(error(() => parse(`h1:${key},h1:${key}`))).not.toContain(key);
      expect(error(() => parse(`bad.kid:${key}`))).not.toContain(key);
    });
  });

  describe('tagged values', () => {
    it('carry their key id in clear, except under the legacy key', () => {
      expect(withKid('h1', 'abc')).toBe('h1.abc');
      expect(withKid(LEGACY_KID, 'abc')).toBe('abc');
      expect(splitKid('h1.abc')).toEqual({ kid: 'h1', value: 'abc' });
      expect(splitKid('abc')).toEqual({ kid: LEGACY_KID, value: 'abc' });
    });
  });

  describe('keyed hashes (HMAC-SHA-256, RFC 2104)', () => {
    const keys = new Keyset([
      { kid: 'h2', key: k2 },
      { kid: 'h1', key: k1 },
    ]);

    it('are made under the current key and name it', () => {
      const hash = keyedHash(keys, 's3cret');
      expect(hash).toBe(`h2.${createHmac('sha256', k2).update('s3cret').digest('base64url')}`);
      expect(keyedHashMatches(keys, 's3cret', hash)).toBe(true);
      expect(keyedHashMatches(keys, 's3cre', hash)).toBe(false);
    });

    it('verify under the key they name while it is accepted, and not once it is removed', () => {
      const before = new Keyset([{ kid: 'h1', key: k1 }]);
      const old = keyedHash(before, 's3cret');
      expect(keyedHashMatches(keys, 's3cret', old)).toBe(true);
      const removed = new Keyset([{ kid: 'h2', key: k2 }]);
      expect(keyedHashMatches(removed, 's3cret', old)).toBe(false);
    });

    it('made under the legacy pepper (no key id, as stored before) verify while p0 is accepted', () => {
      const legacy = createHmac('sha256', pepper).update('s3cret').digest('base64url');
      const withLegacy = parse(`h1:${b64(k1)},p0`, pepper);
      expect(keyedHashMatches(withLegacy, 's3cret', legacy)).toBe(true);
      expect(keyedHashMatches(parse(`h1:${b64(k1)}`), 's3cret', legacy)).toBe(false);
      // While the legacy key is current, hashes are made as before: no key id.
      expect(keyedHash(parse(undefined, pepper), 's3cret')).toBe(legacy);
    });

    it('do not verify under another key id, nor when the key id is swapped', () => {
      const hash = keyedHash(keys, 's3cret');
      expect(keyedHashMatches(keys, 's3cret', `h1.${splitKid(hash).value}`)).toBe(false);
      const other = new Keyset([{ kid: 'h2', key: Buffer.alloc(32, 3) }]);
      expect(keyedHashMatches(other, 's3cret', hash)).toBe(false);
    });

    it.each(['', 'h2.', 'h2.short', 'x', 'h2.' + 'A'.repeat(44), 'unknown.' + 'A'.repeat(43), 's3cret'])(
      'a malformed stored value (%p) matches nothing and does not throw',
      (stored) => {
        expect(keyedHashMatches(keys, 's3cret', stored)).toBe(false);
      },
    );

    it('can be made under an accepted key that is not current (a grant keeps its key id)', () => {
      expect(keyedHash(keys, 'code', 'h1').startsWith('h1.')).toBe(true);
      expect(() => keyedHash(keys, 'code', 'h9')).toThrow(KeysetError);
    });
  });

  describe('derived keys (HKDF, RFC 5869)', () => {
    it('differ per info and keep the key ids', () => {
      const keys = parse(`c2:${b64(k2)},c1:${b64(k1)}`);
      const a = keys.derive('authz-seal:login-session');
      const b = keys.derive('authz-seal:authorization-transaction');
      expect(a.kids).toEqual(['c2', 'c1']);
      expect(a.current.key.equals(b.current.key)).toBe(false);
      expect(a.current.key.equals(k2)).toBe(false);
      expect(a.current.key).toEqual(deriveKey(k2, 'authz-seal:login-session'));
    });
  });
});
