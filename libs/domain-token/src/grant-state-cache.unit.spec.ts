import { grantIdOf, grantStreamId, initialGrantState } from '#lib/domain-grant';
import { type EventStore, InMemoryEventStore } from '#lib/event-store';
import { accessTokenStreamId } from './access-token.js';
import { GrantStateCache } from './grant-state-cache.js';
import type { GrantHandler } from './grants/grant-handler.js';
import { GrantRegistry } from './grants/grant-registry.js';
import { refreshTokenGrant } from './grants/refresh-token.grant.js';
import { userAccessToken } from './grants/user-grant.js';
import { TokenEndpoint } from './token-endpoint.js';
import { invalidGrant } from '#lib/oauth-errors';
import { claimsOf, clients, refusalOf, TokenEndpointFixture } from './testing/token-endpoint-fixture.js';

const INVALID_GRANT = { error: 'invalid_grant', status: 400 };
const errorOf = async (p: Promise<unknown>) => {
  const e = await refusalOf(p);
  return { error: e.error, status: e.status };
};

/** Counts the reads of grant streams. */
function countingStore(): { store: EventStore; grantReads: () => number } {
  const store = new InMemoryEventStore();
  let reads = 0;
  const readStream = store.readStream.bind(store);
  store.readStream = (streamId, options) => {
    if (streamId.startsWith(grantStreamId(''))) reads++;
    return readStream(streamId, options);
  };
  return { store, grantReads: () => reads };
}

const issuedCount = async (store: EventStore) =>
  (await store.readAll(0, 100000)).filter((e) => e.type === 'AccessTokenIssued').length;

describe('GrantStateCache', () => {
  it('drops the least recently used grant beyond its capacity', () => {
    const cache = new GrantStateCache(2);
    const entry = { state: initialGrantState(), version: 1, snapshotVersion: 0 };
    cache.set('a', entry);
    cache.set('b', entry);
    cache.get('a');
    cache.set('c', entry);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([entry, undefined, entry]);
    expect(cache.size).toBe(2);
  });

  it('holds nothing at capacity 0', () => {
    const cache = new GrantStateCache(0);
    cache.set('a', { state: initialGrantState(), version: 1, snapshotVersion: 0 });
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('the token endpoint over the grant-state cache (ARCHITECTURE.md: never stale)', () => {
  it('a refresh after the redemption or a rotation reads no grant stream', async () => {
    const { store, grantReads } = countingStore();
    const f = new TokenEndpointFixture(store);
    let token = (await f.redeem(await f.seedCode())).refresh_token!;
    expect(grantReads()).toBe(1);
    for (let i = 0; i < 5; i++) token = (await f.refresh(token)).refresh_token!;
    expect(grantReads()).toBe(1);
  });

  it('GRANT_STATE_CACHE_SIZE=0: every refresh reads its grant stream', async () => {
    const { store, grantReads } = countingStore();
    const f = new TokenEndpointFixture(store, {}, new GrantStateCache(0));
    let token = (await f.redeem(await f.seedCode())).refresh_token!;
    for (let i = 0; i < 3; i++) token = (await f.refresh(token)).refresh_token!;
    expect(grantReads()).toBe(4);
  });

  it('a grant revoked behind the cache (another service appended) is refused and issues nothing', async () => {
    const store = new InMemoryEventStore();
    const f = new TokenEndpointFixture(store);
    const first = await f.redeem(await f.seedCode());
    const other = new TokenEndpointFixture(store);
    // A second replica rotates, then the family is reused there: the grant is revoked.
    const second = await other.refresh(first.refresh_token!);
    expect(await errorOf(other.refresh(first.refresh_token!))).toEqual(INVALID_GRANT);
    const before = await issuedCount(store);
    // The first replica still holds the grant as it was after the redemption.
    expect(await errorOf(f.refresh(second.refresh_token!))).toEqual(INVALID_GRANT);
    expect(await errorOf(f.refresh(first.refresh_token!))).toEqual(INVALID_GRANT);
    expect(await issuedCount(store)).toBe(before);
  });

  it('a token rotated on another replica is accepted here: a refusal is re-decided on the store', async () => {
    const store = new InMemoryEventStore();
    const a = new TokenEndpointFixture(store);
    const b = new TokenEndpointFixture(store);
    const first = await b.redeem(await b.seedCode());
    const second = await a.refresh(first.refresh_token!);
    // b's cache knows only the first token as current.
    const third = await b.refresh(second.refresh_token!);
    expect(claimsOf(third).sub).toBe('sub-alice');
    const [issued] = await store.readStream(accessTokenStreamId(claimsOf(third).jti));
    expect(issued!.type).toBe('AccessTokenIssued');
  });

  it('the old token replayed on a replica whose cache still calls it current is reuse: the family is revoked', async () => {
    const store = new InMemoryEventStore();
    const a = new TokenEndpointFixture(store);
    const b = new TokenEndpointFixture(store);
    const first = await b.redeem(await b.seedCode());
    const second = await a.refresh(first.refresh_token!);
    expect(await errorOf(b.refresh(first.refresh_token!))).toEqual(INVALID_GRANT);
    expect((await b.grantEvents(first.refresh_token!)).slice(-2)).toEqual([
      'RefreshTokenReuseDetected',
      'GrantRevoked',
    ]);
    expect(await errorOf(a.refresh(second.refresh_token!))).toEqual(INVALID_GRANT);
  });

  it('a refusal decided on a cached grant stands once the stream version confirms it: no re-read (wrong client, RT-05)', async () => {
    const { store, grantReads } = countingStore();
    const f = new TokenEndpointFixture(store);
    const first = await f.redeem(await f.seedCode());
    const reads = grantReads();
    for (let i = 0; i < 20; i++) {
      expect(await errorOf(f.refresh(first.refresh_token!, { client: clients.c2 }))).toEqual(INVALID_GRANT);
    }
    expect(grantReads()).toBe(reads);
    expect((await f.refresh(first.refresh_token!)).refresh_token).toBeDefined();
  });

  it('a refusal decided on a cached grant whose stream moved since is decided again on a fresh read', async () => {
    const { store, grantReads } = countingStore();
    const a = new TokenEndpointFixture(store);
    const b = new TokenEndpointFixture(store);
    const first = await a.redeem(await a.seedCode());
    await a.refresh(first.refresh_token!, { client: clients.c2 }).catch(() => undefined);
    const second = await b.refresh(first.refresh_token!);
    const reads = grantReads();
    // a's cache still holds generation 1, where `second` is unknown: the stream moved, so a re-reads.
    const third = await a.refresh(second.refresh_token!);
    expect(third.refresh_token).toBeDefined();
    expect(grantReads()).toBe(reads + 1);
  });

  it('a grant read from the cache but not written to is confirmed by the append (a custom grant)', async () => {
    const store = new InMemoryEventStore();
    const f = new TokenEndpointFixture(store);
    const first = await f.redeem(await f.seedCode());
    const config = {
      issuer: 'https://as.test',
      adminAudience: 'https://as.test/admin',
      accessTokenTtlSeconds: 600,
      accessTokenMaxTtlSeconds: 600,
    };
    // Issues on an active grant without writing to its stream.
    const readOnly: GrantHandler = {
      grantType: 'urn:test:grant-reader',
      parameters: ['refresh_token'],
      async handle(context) {
        const { state } = await context.grants.load(grantIdOf(context.parameters.refresh_token!)!);
        if (state.status !== 'active') throw invalidGrant('the grant is not active');
        return { issue: userAccessToken(state.grant, context, config, 'refresh_token', ['read']) };
      },
    };
    const refresh = refreshTokenGrant({
      ...config,
      refreshTokenIdleTtlSeconds: 3600,
      refreshTokenAbsoluteTtlSeconds: 86400,
      refreshTokenMaxTtlSeconds: 86400,
      refreshTokenMaxRotations: 10_000,
      secretHashKeys: f.secretHashKeys,
    });
    const endpoint = new TokenEndpoint(
      store,
      new GrantRegistry([readOnly, refresh]),
      config.issuer,
      () => f.now,
      f.grantStates,
    );
    const signer = { kid: 'k1', sign: async () => 'jwt' };
    const ask = () =>
      endpoint.exchange(
        {
          client: clients.c1,
          parameters: { grant_type: 'urn:test:grant-reader', refresh_token: first.refresh_token! },
          resources: [],
          correlationId: 'test',
        },
        signer,
      );
    expect((await ask()).access_token).toBe('jwt');
    // Revoked by another replica: this one's cache still holds the grant as active.
    const other = new TokenEndpointFixture(store);
    await other.refresh(first.refresh_token!);
    await other.refresh(first.refresh_token!).catch(() => undefined);
    const before = await issuedCount(store);
    expect(await errorOf(ask())).toEqual(INVALID_GRANT);
    expect(await issuedCount(store)).toBe(before);
  });
});
