import { randomBytes } from 'node:crypto';
import { Sealer } from './transaction.js';

describe('sealed authorization transactions and CSRF tokens (RFC 6749 §10.12, checklist UI-04/05/08/10)', () => {
  const pepper = randomBytes(32);
  const sealer = new Sealer(pepper, 'authorization-transaction');
  const now = 1_000_000;

  it('opens what it sealed until it expires', () => {
    const sealed = sealer.seal({ kind: 'account', id: 'x', exp: now + 1000 }, randomBytes(12));
    expect(sealer.open(sealed, now)).toEqual({ kind: 'account', id: 'x', exp: now + 1000 });
    expect(sealer.open(sealed, now + 1000)).toBeNull();
  });

  it('UI-08: an altered value, another purpose or another pepper opens nothing', () => {
    const sealed = sealer.seal({ kind: 'account', id: 'x', exp: now + 1000 }, randomBytes(12));
    const raw = Buffer.from(sealed, 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(sealer.open(raw.toString('base64url'), now)).toBeNull();
    expect(new Sealer(pepper, 'login-session').open(sealed, now)).toBeNull();
    expect(new Sealer(randomBytes(32), 'authorization-transaction').open(sealed, now)).toBeNull();
    for (const junk of [undefined, 42, '', 'short', '!'.repeat(60)])
      expect(sealer.open(junk, now)).toBeNull();
  });

  it('UI-05 / UI-10: a CSRF token holds for one transaction and one browser only', () => {
    const token = sealer.csrfToken('tx1', 'alice-session');
    expect(sealer.checkCsrf(token, 'tx1', 'alice-session')).toBe(true);
    expect(sealer.checkCsrf(token, 'tx2', 'alice-session')).toBe(false);
    expect(sealer.checkCsrf(token, 'tx1', 'bob-session')).toBe(false);
    expect(sealer.checkCsrf(undefined, 'tx1', 'alice-session')).toBe(false);
    expect(sealer.checkCsrf(token, 'tx1', undefined)).toBe(false);
  });

  it('UI-09: the grant id is fixed by the transaction (so a second code conflicts) and looks like any grant id', () => {
    expect(sealer.grantIdFor('tx1')).toBe(sealer.grantIdFor('tx1'));
    expect(sealer.grantIdFor('tx1')).not.toBe(sealer.grantIdFor('tx2'));
    expect(sealer.grantIdFor('tx1')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
