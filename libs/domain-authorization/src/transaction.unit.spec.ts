import { Keyset, LEGACY_KID } from '#lib/keysets';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { CsrfTokens, grantIdForTransaction, Sealer } from './transaction.js';

const key = (kid: string) => ({ kid, key: randomBytes(32) });

describe('sealed authorization transactions and CSRF tokens (RFC 6749 §10.12, checklist UI-04/05/08/10)', () => {
  const c1 = key('c1');
  const cookieKeys = new Keyset([c1]);
  const sealer = new Sealer(cookieKeys, 'authorization-transaction');
  const csrf = new CsrfTokens(new Keyset([key('x1')]));
  const now = 1_000_000;
  const tx = { kind: 'account', id: 'x', exp: now + 1000 };

  it('opens what it sealed until it expires', async () => {
    const sealed = await sealer.seal(tx);
    await expect(sealer.open(sealed, now)).resolves.toEqual(tx);
    await expect(sealer.open(sealed, now + 1000)).resolves.toBeNull();
  });

  it('is a compact JWE (RFC 7516), dir + A256GCM under the purpose key derived by HKDF, each time with a new IV', async () => {
    const sealed = await sealer.seal(tx);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(decodeProtectedHeader(sealed)).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'c1' });
    const derived = hkdfSync('sha256', c1.key, Buffer.alloc(0), 'authz-seal:authorization-transaction', 32);
    const { plaintext } = await compactDecrypt(sealed, new Uint8Array(derived));
    expect(JSON.parse(Buffer.from(plaintext).toString('utf8'))).toEqual(tx);
    expect((await sealer.seal(tx)).split('.')[2]).not.toBe(sealed.split('.')[2]);
  });

  it('UI-08: an altered value, another purpose, another key or another algorithm opens nothing', async () => {
    const sealed = await sealer.seal(tx);
    const [header, , iv, body, tag] = sealed.split('.') as [string, string, string, string, string];
    const flip = (part: string) => {
      const raw = Buffer.from(part, 'base64url');
      raw[raw.length - 1] ^= 1;
      return raw.toString('base64url');
    };
    for (const altered of [
      `${header}..${iv}.${flip(body)}.${tag}`,
      `${header}..${iv}.${body}.${flip(tag)}`,
      `${header}..${flip(iv)}.${body}.${tag}`,
      // RFC 7516 §5.1 step 14: the protected header is the additional authenticated data.
      `${Buffer.from(JSON.stringify({ enc: 'A256GCM', alg: 'dir', kid: 'c1' })).toString('base64url')}..${iv}.${body}.${tag}`,
    ])
      await expect(sealer.open(altered, now)).resolves.toBeNull();
    await expect(new Sealer(cookieKeys, 'login-session').open(sealed, now)).resolves.toBeNull();
    await expect(
      new Sealer(new Keyset([key('c1')]), 'authorization-transaction').open(sealed, now),
    ).resolves.toBeNull();
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', enc: 'A256GCM', kid: 'c1' })).toString(
      'base64url',
    );
    const cbc = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A128CBC-HS256', kid: 'c1' })).toString(
      'base64url',
    );
    for (const junk of [
      undefined,
      42,
      '',
      'short',
      '!'.repeat(60),
      'c1.',
      `${noneHeader}..${iv}.${body}.${tag}`,
      `${cbc}..${iv}.${body}.${tag}`,
      'x'.repeat(20000),
    ])
      await expect(sealer.open(junk, now)).resolves.toBeNull();
  });

  it('UI-05 / UI-10: a CSRF token holds for one transaction and one browser only', () => {
    const token = csrf.token('tx1', 'alice-session');
    expect(csrf.check(token, 'tx1', 'alice-session')).toBe(true);
    expect(csrf.check(token, 'tx2', 'alice-session')).toBe(false);
    expect(csrf.check(token, 'tx1', 'bob-session')).toBe(false);
    expect(csrf.check(undefined, 'tx1', 'alice-session')).toBe(false);
    expect(csrf.check(token, 'tx1', undefined)).toBe(false);
  });

  it('UI-09: the grant id is fixed by the transaction (so a second code conflicts) and looks like any grant id', () => {
    expect(grantIdForTransaction('tx1')).toBe(grantIdForTransaction('tx1'));
    expect(grantIdForTransaction('tx1')).not.toBe(grantIdForTransaction('tx2'));
    expect(grantIdForTransaction('tx1')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  describe('key ids and rotation (COOKIE_SEALING_KEYS, CSRF_KEYS)', () => {
    const c2 = key('c2');
    const x1 = key('x1');
    const x2 = key('x2');

    it('a sealed value and a CSRF token name the key they were made under, in clear', async () => {
      expect(decodeProtectedHeader(await sealer.seal(tx)).kid).toBe('c1');
      expect(csrf.token('tx1', 'b')).toMatch(/^x1\.[A-Za-z0-9_-]{43}$/);
    });

    it('what the previous key sealed opens while it is accepted, and not once it is removed', async () => {
      const sealed = await new Sealer(new Keyset([c1]), 'login-session').seal(tx);
      await expect(new Sealer(new Keyset([c2, c1]), 'login-session').open(sealed, now)).resolves.toEqual(tx);
      await expect(new Sealer(new Keyset([c2]), 'login-session').open(sealed, now)).resolves.toBeNull();
      const next = await new Sealer(new Keyset([c2, c1]), 'login-session').seal(tx);
      expect(decodeProtectedHeader(next).kid).toBe('c2');
    });

    it('a CSRF token of the previous key passes while it is accepted, and not once it is removed', () => {
      const token = new CsrfTokens(new Keyset([x1])).token('tx1', 'b');
      expect(new CsrfTokens(new Keyset([x2, x1])).check(token, 'tx1', 'b')).toBe(true);
      expect(new CsrfTokens(new Keyset([x2])).check(token, 'tx1', 'b')).toBe(false);
    });

    it('the CSRF key seals nothing that opens, and the cookie key makes no CSRF token that passes', async () => {
      const cookie = new Keyset([c1]);
      const csrfKeys = new Keyset([x1]);
      // Whoever holds x1 seals a session under the cookie key's id: it does not open.
      const forgedSession = await new Sealer(new Keyset([{ kid: 'c1', key: x1.key }]), 'login-session').seal(
        tx,
      );
      await expect(new Sealer(cookie, 'login-session').open(forgedSession, now)).resolves.toBeNull();
      // Whoever holds c1 makes a CSRF token under the CSRF key's id: it does not pass.
      const forgedToken = new CsrfTokens(new Keyset([{ kid: 'x1', key: c1.key }])).token('tx1', 'b');
      expect(new CsrfTokens(csrfKeys).check(forgedToken, 'tx1', 'b')).toBe(false);
    });

    it('values made under the legacy SECRET_PEPPER (key id p0) open and pass while p0 is listed', async () => {
      const pepper = randomBytes(32);
      const legacyMac = Buffer.from(
        hkdfSync('sha256', pepper, Buffer.alloc(0), 'authz-mac:authorization-transaction', 32),
      );
      const legacyToken = createHmac('sha256', legacyMac).update('tx1\nb').digest('base64url');
      const withLegacy = new Keyset([x2, { kid: LEGACY_KID, key: pepper }]);
      expect(new CsrfTokens(withLegacy).check(legacyToken, 'tx1', 'b')).toBe(true);
      expect(new CsrfTokens(new Keyset([x2])).check(legacyToken, 'tx1', 'b')).toBe(false);
      const legacySealed = await new Sealer(
        new Keyset([{ kid: LEGACY_KID, key: pepper }]),
        'login-session',
      ).seal(tx);
      await expect(
        new Sealer(new Keyset([c2, { kid: LEGACY_KID, key: pepper }]), 'login-session').open(
          legacySealed,
          now,
        ),
      ).resolves.toEqual(tx);
      await expect(new Sealer(new Keyset([c2]), 'login-session').open(legacySealed, now)).resolves.toBeNull();
    });
  });
});
