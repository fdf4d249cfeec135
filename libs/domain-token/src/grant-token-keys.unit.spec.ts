import { GRANT_FOLD, grantStreamId } from '#lib/domain-grant';
import { aggregateStream, InMemoryEventStore } from '#lib/event-store';
import { Keyset, LEGACY_KID } from '#lib/keysets';
import { createHmac } from 'node:crypto';
import { GrantStateCache } from './grant-state-cache.js';
import { introspectRefreshToken } from './refresh-token-introspection.js';
import {
  clients,
  refusalOf,
  SECRET_HASH_KEYS,
  TokenEndpointFixture,
} from './testing/token-endpoint-fixture.js';
import { grantTokenHasher } from '#lib/domain-grant';

/**
 * Codes and refresh tokens across a rotation of the secret-hash key (SECRET_HASH_KEYS): every hash
 * of a grant is made under the key its code was hashed with, so that a grant made before the
 * rotation keeps working while that key is accepted, and stops once the operator removes it.
 */
const h1 = SECRET_HASH_KEYS.current;
const h2 = { kid: 'h2', key: Buffer.alloc(32, 8) };
const pepper = { kid: LEGACY_KID, key: Buffer.alloc(32, 9) };

describe('grant tokens under rotated secret-hash keys', () => {
  let store: InMemoryEventStore;
  const fixture = (keys: Keyset, share?: TokenEndpointFixture) => {
    const f = new TokenEndpointFixture(store, {}, new GrantStateCache(), keys);
    if (share) f.now = share.now;
    return f;
  };
  const hashesOf = async (token: string) => {
    const events = await store.readStream(grantStreamId(token.slice(0, 22)));
    return events.flatMap((e) =>
      Object.entries(e.data as Record<string, unknown>)
        .filter(([k]) => /Hash$/.test(k) && k !== 'previousHash')
        .map(([, v]) => String(v)),
    );
  };

  beforeEach(() => {
    store = new InMemoryEventStore();
  });

  it('a code issued before the rotation is redeemed after it, and its refresh tokens keep the grant’s key id', async () => {
    const before = fixture(new Keyset([h1]));
    const code = await before.seedCode();
    const after = fixture(new Keyset([h2, h1]), before);
    const tokens = await after.redeem(code);
    const refreshed = await after.refresh(tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    const hashes = await hashesOf(code);
    expect(hashes.length).toBeGreaterThanOrEqual(3);
    for (const h of hashes) expect(h.startsWith('h1.')).toBe(true);
  });

  it('a grant made after the rotation is hashed under the new current key', async () => {
    const f = fixture(new Keyset([h2, h1]));
    const code = await f.seedCode();
    await f.refresh((await f.redeem(code)).refresh_token!);
    for (const h of await hashesOf(code)) expect(h.startsWith('h2.')).toBe(true);
  });

  it('once the key is removed, the grant’s code and refresh tokens are invalid_grant, and nothing is recorded', async () => {
    const before = fixture(new Keyset([h1]));
    const code = await before.seedCode();
    const unused = await before.seedCode();
    const rt = (await before.redeem(code)).refresh_token!;
    const removed = fixture(new Keyset([h2]), before);
    const events = (await store.readAll(0, 1000)).length;
    expect((await refusalOf(removed.refresh(rt))).error).toBe('invalid_grant');
    expect((await refusalOf(removed.redeem(unused))).error).toBe('invalid_grant');
    // The presented token matched nothing: no reuse detected, no revocation recorded.
    expect((await store.readAll(0, 1000)).length).toBe(events);
  });

  it('a rotated-out refresh token presented again is still detected as reuse while the key is accepted', async () => {
    const before = fixture(new Keyset([h1]));
    const rt1 = (await before.redeem(await before.seedCode())).refresh_token!;
    const after = fixture(new Keyset([h2, h1]), before);
    await after.refresh(rt1);
    expect((await refusalOf(after.refresh(rt1))).error).toBe('invalid_grant');
    expect(await after.grantEvents(rt1)).toContain('RefreshTokenReuseDetected');
  });

  it('a grant stored before key ids existed (the legacy pepper, no key id) works while p0 is accepted', async () => {
    const legacy = fixture(new Keyset([pepper]));
    const code = await legacy.seedCode();
    const [issued] = await store.readStream(grantStreamId(code.slice(0, 22)));
    expect((issued!.data as { codeHash: string }).codeHash).toBe(
      createHmac('sha256', pepper.key).update(code).digest('base64url'),
    );
    const upgraded = fixture(new Keyset([h2, pepper]), legacy);
    const rt = (await upgraded.redeem(code)).refresh_token!;
    expect((await upgraded.refresh(rt)).access_token).toBeDefined();
    for (const h of await hashesOf(code)) expect(h).not.toContain('.');
  });

  it('introspection hashes a presented refresh token as its grant’s are', async () => {
    const before = fixture(new Keyset([h1]));
    const code = await before.seedCode();
    const rt = (await before.redeem(code)).refresh_token!;
    const { state } = await aggregateStream(store, grantStreamId(code.slice(0, 22)), GRANT_FOLD);
    const now = Math.floor(before.now.getTime() / 1000);
    const introspect = (keys: Keyset) =>
      introspectRefreshToken(state, grantTokenHasher(keys, state)(rt), clients.c1, now, 'https://as.test');
    expect(introspect(new Keyset([h2, h1])).active).toBe(true);
    expect(introspect(new Keyset([h2])).active).toBe(false);
  });
});
