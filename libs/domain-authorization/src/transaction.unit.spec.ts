import { Keyset, LEGACY_KID } from '#lib/keysets';
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

  it('opens what it sealed until it expires', () => {
    const sealed = sealer.seal(tx, randomBytes(12));
    expect(sealer.open(sealed, now)).toEqual(tx);
    expect(sealer.open(sealed, now + 1000)).toBeNull();
  });

  it('UI-08: an altered value, another purpose or another key opens nothing', () => {
    const sealed = sealer.seal(tx, randomBytes(12));
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(sealer.open(`c1.${raw.toString('base64url')}`, now)).toBeNull();
    expect(new Sealer(cookieKeys, 'login-session').open(sealed, now)).toBeNull();
    expect(new Sealer(new Keyset([key('c1')]), 'authorization-transaction').open(sealed, now)).toBeNull();
    for (const junk of [undefined, 42, '', 'short', '!'.repeat(60), 'c1.', `c9.${sealed.slice(3)}`])
      expect(sealer.open(junk, now)).toBeNull();
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

    it('a sealed value and a CSRF token name the key they were made under, in clear', () => {
      expect(sealer.seal(tx, randomBytes(12))).toMatch(/^c1\.[A-Za-z0-9_-]+$/);
      expect(csrf.token('tx1', 'b')).toMatch(/^x1\.[A-Za-z0-9_-]{43}$/);
    });

    it('what the previous key sealed opens while it is accepted, and not once it is removed', () => {
      const sealed = new Sealer(new Keyset([c1]), 'login-session').seal(tx, randomBytes(12));
      expect(new Sealer(new Keyset([c2, c1]), 'login-session').open(sealed, now)).toEqual(tx);
      expect(new Sealer(new Keyset([c2]), 'login-session').open(sealed, now)).toBeNull();
      expect(new Sealer(new Keyset([c2, c1]), 'login-session').seal(tx, randomBytes(12))).toMatch(/^c2\./);
    });

    it('a CSRF token of the previous key passes while it is accepted, and not once it is removed', () => {
      const token = new CsrfTokens(new Keyset([x1])).token('tx1', 'b');
      expect(new CsrfTokens(new Keyset([x2, x1])).check(token, 'tx1', 'b')).toBe(true);
      expect(new CsrfTokens(new Keyset([x2])).check(token, 'tx1', 'b')).toBe(false);
    });

    it('the CSRF key seals nothing that opens, and the cookie key makes no CSRF token that passes', () => {
      const cookie = new Keyset([c1]);
      const csrfKeys = new Keyset([x1]);
      // Whoever holds x1 seals a session under the cookie key's id: it does not open.
      const forgedSession = new Sealer(new Keyset([{ kid: 'c1', key: x1.key }]), 'login-session').seal(
        tx,
        randomBytes(12),
      );
      expect(new Sealer(cookie, 'login-session').open(forgedSession, now)).toBeNull();
      // Whoever holds c1 makes a CSRF token under the CSRF key's id: it does not pass.
      const forgedToken = new CsrfTokens(new Keyset([{ kid: 'x1', key: c1.key }])).token('tx1', 'b');
      expect(new CsrfTokens(csrfKeys).check(forgedToken, 'tx1', 'b')).toBe(false);
    });

    it('values made before key ids existed (SECRET_PEPPER, no key id) open and pass while p0 is listed', () => {
      const pepper = randomBytes(32);
      const legacyMac = Buffer.from(
        hkdfSync('sha256', pepper, Buffer.alloc(0), 'authz-mac:authorization-transaction', 32),
      );
      const legacyToken = createHmac('sha256', legacyMac).update('tx1\nb').digest('base64url');
      const withLegacy = new Keyset([x2, { kid: LEGACY_KID, key: pepper }]);
      expect(new CsrfTokens(withLegacy).check(legacyToken, 'tx1', 'b')).toBe(true);
      expect(new CsrfTokens(new Keyset([x2])).check(legacyToken, 'tx1', 'b')).toBe(false);
      const legacySealed = new Sealer(new Keyset([{ kid: LEGACY_KID, key: pepper }]), 'login-session').seal(
        tx,
        randomBytes(12),
      );
      expect(legacySealed).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(
        new Sealer(new Keyset([c2, { kid: LEGACY_KID, key: pepper }]), 'login-session').open(
          legacySealed,
          now,
        ),
      ).toEqual(tx);
      expect(new Sealer(new Keyset([c2]), 'login-session').open(legacySealed, now)).toBeNull();
    });
  });
});
