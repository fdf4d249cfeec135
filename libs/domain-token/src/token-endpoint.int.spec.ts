import type { TokenResponse } from '#lib/contracts';
import { GRANT_FOLD, grantStreamId } from '#lib/domain-grant';
import { aggregateStream, createEventStoreDataSource, PgEventStore } from '#lib/event-store';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { clients, refusalOf, TokenEndpointFixture } from './testing/token-endpoint-fixture.js';

/**
 * Races on the grant stream against the real Postgres event store (checklist TOK-06, RT-04,
 * ES-02, decisions 4 and 5): two token-service replicas (two stores, two connection pools) take
 * the parallel requests in turn; the store's unique (stream_id, stream_version) decides.
 */
let db: TestDatabase;
const sources: ReturnType<typeof createEventStoreDataSource>[] = [];
let replicas: TokenEndpointFixture[];

beforeAll(async () => {
  db = await createTestDatabase('token_endpoint');
  await runMigrations(db.url);
  for (let i = 0; i < 2; i++) {
    const ds = createEventStoreDataSource(db.url, { poolSize: 5, applicationName: `token-int-${i}` });
    await ds.initialize();
    sources.push(ds);
  }
  replicas = sources.map((ds) => new TokenEndpointFixture(new PgEventStore(ds)));
}, 30000);

afterAll(async () => {
  for (const ds of sources) if (ds.isInitialized) await ds.destroy();
  await db?.drop();
});

type Settled = PromiseSettledResult<TokenResponse>;
const successes = (r: Settled[]) =>
  r.filter((x): x is PromiseFulfilledResult<TokenResponse> => x.status === 'fulfilled').map((x) => x.value);
const failures = (r: Settled[]) =>
  r
    .filter((x): x is PromiseRejectedResult => x.status === 'rejected')
    .map((x) => x.reason as { error?: string });

async function grantOf(token: string) {
  const events = await replicas[0]!.store.readStream(grantStreamId(token.slice(0, 22)));
  const { state } = await aggregateStream(replicas[0]!.store, grantStreamId(token.slice(0, 22)), GRANT_FOLD);
  return { types: events.map((e) => e.type), state };
}

describe('concurrent use of one grant on Postgres (decisions 4 and 5)', () => {
  it('TOK-06, ES-02: 20 parallel redemptions of one code: exactly one succeeds, the replays revoke it', async () => {
    const code = await replicas[0]!.seedCode();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.redeem(code)),
    );
    expect(successes(results)).toHaveLength(1);
    expect(failures(results).map((e) => e.error)).toEqual(Array(19).fill('invalid_grant'));
    const { types, state } = await grantOf(code);
    expect(types.filter((t) => t === 'AuthorizationCodeRedeemed')).toHaveLength(1);
    expect(types.filter((t) => t === 'GrantRevoked')).toHaveLength(1);
    expect(types).toContain('AuthorizationCodeReplayed');
    expect(state).toMatchObject({ status: 'revoked', reason: 'code_replay' });
    const winner = successes(results)[0]!;
    expect((await refusalOf(replicas[0]!.refresh(winner.refresh_token!))).error).toBe('invalid_grant');
  }, 30000);

  it('RT-04, ES-02: 50 parallel refreshes of one token, grace 0: at most one succeeds and the family is revoked', async () => {
    const first = await replicas[0]!.redeem(await replicas[0]!.seedCode());
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => replicas[i % 2]!.refresh(first.refresh_token!)),
    );
    expect(successes(results).length).toBeLessThanOrEqual(1);
    expect(new Set(failures(results).map((e) => e.error))).toEqual(new Set(['invalid_grant']));
    const { types, state } = await grantOf(first.refresh_token!);
    expect(types.filter((t) => t === 'GrantRevoked')).toHaveLength(1);
    expect(types.filter((t) => t === 'RefreshTokenRotated').length).toBeLessThanOrEqual(1);
    expect(state).toMatchObject({ status: 'revoked', reason: 'refresh_token_reuse' });
    // no two live refresh tokens survive: not even the winner's
    for (const won of successes(results)) {
      expect((await refusalOf(replicas[1]!.refresh(won.refresh_token!))).error).toBe('invalid_grant');
    }
  }, 30000);

  it('RT-04: 50 parallel refreshes of one token inside a 30 s grace window: the family lives, one chain, one live token', async () => {
    const client = { ...clients.c1, refreshTokenReuseGraceSeconds: 30 };
    const first = await replicas[0]!.redeem(await replicas[0]!.seedCode({ client }), { client });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => replicas[i % 2]!.refresh(first.refresh_token!, { client })),
    );
    const won = successes(results);
    expect(won.length).toBeGreaterThanOrEqual(1);
    expect(new Set(failures(results).map((e) => e.error))).toEqual(
      failures(results).length ? new Set(['invalid_grant']) : new Set(),
    );
    const { types, state } = await grantOf(first.refresh_token!);
    expect(types).not.toContain('GrantRevoked');
    expect(types).not.toContain('RefreshTokenReuseDetected');
    // every success is one rotation of the family, in a single chain: exactly one token is current
    expect(types.filter((t) => t === 'RefreshTokenRotated')).toHaveLength(won.length);
    const f = replicas[0]!;
    const current = won.filter(
      (r) => state.status === 'active' && state.family!.currentHash === f.hash(r.refresh_token!),
    );
    expect(current).toHaveLength(1);
    expect((await f.refresh(current[0]!.refresh_token!, { client })).access_token).toBeDefined();
  }, 30000);
});
