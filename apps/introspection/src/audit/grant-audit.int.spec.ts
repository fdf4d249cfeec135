import { Keyset } from '#lib/keysets';
import type { DataSource } from 'typeorm';
import type { AuditEvent, GrantAsOfResponse } from '#lib/contracts';
import { hashGrantToken } from '#lib/domain-grant';
import {
  effectiveTokenState,
  GRANT_STATE,
  grantStateProjection,
  type GrantStateRow,
  TOKEN_STATE,
  tokenStateProjection,
  type TokenStateRow,
} from '#lib/domain-token';
import {
  createEventStoreDataSource,
  PgAuditLog,
  PgEventStore,
  type Projection,
  ProjectionRows,
  ProjectionRunner,
  rebuildAndCompare,
} from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';
import { grantHistoryCriteria, userHistoryCriteria } from '#lib/domain-token';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { ScriptedGrant, scriptGrantLife } from '../../../../libs/domain-token/src/testing/grant-life.js';
import { GrantAsOfHandler } from './as-of/grant-as-of.handler.js';
import { GrantHistoryHandler } from './history/grant-history.handler.js';
import { UserHistoryHandler } from './history/user-history.handler.js';

/**
 * The grant and user audit over the real Postgres store: a grant's life scripted as the consent and
 * token services write it (consent, code, redemption, three rotations, a reuse that revokes the
 * grant), then its history, its state as of every step, its owner's history, and the token_state /
 * grant_state read models (a rebuild from the events equals the live projection).
 */
describe('grant and user audit over a scripted grant life (real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: PgEventStore;
  let grant: ScriptedGrant;
  let sibling: ScriptedGrant;
  let stranger: ScriptedGrant;
  const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 9) }]);
  const context = { correlationId: 'int-test' } as never;
  const credential = 'verified by the NATS controller, not the handler';
  const alice = {
    clientId: 'c1',
    sub: 'sub-alice',
    username: 'alice',
    scope: ['read', 'write'],
    aud: ['https://api.test'],
    redirectUri: 'https://c1.test/cb',
  };

  beforeAll(async () => {
    db = await createTestDatabase('grant_audit');
    await runMigrations(db.url);
    ds = createEventStoreDataSource(db.url, { poolSize: 4 });
    await ds.initialize();
    store = new PgEventStore(ds);
    grant = await scriptGrantLife(new ScriptedGrant(store, keys, alice));
    // Another grant of alice's (another client) and bob's grant with the same client, interleaved.
    sibling = new ScriptedGrant(store, keys, {
      ...alice,
      clientId: 'c2',
      redirectUri: 'https://c2.test/cb',
    });
    await sibling.issueCode();
    await sibling.redeem();
    stranger = new ScriptedGrant(store, keys, { ...alice, sub: 'sub-bob', username: 'bob' });
    await stranger.consent();
    await stranger.issueCode();
    await stranger.redeem();
  }, 60_000);

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  const grantHistory = (page: Record<string, unknown> = {}, id = grant.grantId) =>
    new GrantHistoryHandler(store, ds).handle({
      context,
      credential,
      grantId: id,
      page: { limit: 100, ...page },
    });
  const types = (events: AuditEvent[]) => events.map((e) => e.type);

  const LIFE = [
    'ConsentGranted',
    'AuthorizationCodeIssued',
    'AuthorizationCodeRedeemed',
    'RefreshTokenIssued',
    'AccessTokenIssued',
    ...Array(3).fill(['RefreshTokenRotated', 'AccessTokenIssued']).flat(),
    'RefreshTokenReuseDetected',
    'GrantRevoked',
  ];

  it("a grant's history: consent, code, every rotation, the reuse and the revocation, in order, and nothing else", async () => {
    const page = await grantHistory();
    expect(types(page.events)).toEqual(LIFE);
    expect(page.next).toBeNull();
    const streams = new Set(page.events.map((e) => e.streamId));
    expect(streams).toEqual(
      new Set([
        `grant-${grant.grantId}`,
        ...grant.accessTokens.map((a) => `access-token-${a.jti}`),
        page.events[0]!.streamId,
      ]),
    );
    // Who did it is in the metadata; no hash leaves the audit API (toAuditEvent redacts).
    expect(page.events.find((e) => e.type === 'RefreshTokenReuseDetected')!.metadata.actor).toBe('client:c1');
    const shown = JSON.stringify(page.events);
    for (const secret of [grant.code, ...grant.refreshTokens]) {
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain(hashGrantToken(secret, keys));
    }
    const positions = page.events.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('pages (limit/after) add up to the whole history; from/to bound it by time', async () => {
    const all = (await grantHistory()).events;
    const paged: AuditEvent[] = [];
    let after: number | undefined;
    do {
      const page = await grantHistory({ limit: 4, after });
      expect(page.events.length).toBeLessThanOrEqual(4);
      paged.push(...page.events);
      after = page.next ?? undefined;
    } while (after !== undefined);
    expect(paged).toEqual(all);

    const rotations = grant.steps.filter((s) => s.name === 'refresh token rotated');
    const from = rotations[1]!.at.toISOString();
    const to = rotations[2]!.at.toISOString();
    const window = await grantHistory({ from, to });
    expect(types(window.events)).toEqual([
      'RefreshTokenRotated',
      'AccessTokenIssued',
      'RefreshTokenRotated',
      'AccessTokenIssued',
    ]);
  });

  it('an unknown grant is not_found', async () => {
    await expect(grantHistory({}, 'A'.repeat(22))).rejects.toMatchObject({ error: 'not_found' });
  });

  it('a grant as of each step of its life (state by replaying events up to the instant)', async () => {
    const handler = new GrantAsOfHandler(store);
    const asOf = (at: Date) =>
      handler.handle({ context, credential, id: grant.grantId, asOf: at.toISOString() });
    const at = (name: string, n = 0) => grant.steps.filter((s) => s.name === name)[n]!.at;

    await expect(asOf(new Date(at('code issued').getTime() - 1))).rejects.toBeInstanceOf(OAuthError);
    const views: GrantAsOfResponse[] = [
      await asOf(at('code issued')),
      await asOf(at('code redeemed')),
      await asOf(at('refresh token rotated', 0)),
      await asOf(at('refresh token rotated', 2)),
      await asOf(at('refresh token reused')),
    ];
    expect(views.map((v) => v.status)).toEqual(['code_issued', 'active', 'active', 'active', 'revoked']);
    expect(views.map((v) => v.refresh?.generation)).toEqual([undefined, 1, 2, 4, undefined]);
    expect(views.map((v) => v.accessTokenJtis.length)).toEqual([0, 1, 2, 4, 4]);
    expect(views[4]).toMatchObject({
      revocationReason: 'refresh_token_reuse',
      sub: 'sub-alice',
      username: 'alice',
    });
    expect(views[3]!.position).toBe(
      grant.steps.filter((s) => s.name === 'refresh token rotated')[2]!.position,
    );
  });

  it("a user's history: every grant and token of the subject, and nobody else's", async () => {
    const handler = new UserHistoryHandler(ds);
    const page = await handler.handle({ context, credential, sub: 'sub-alice', page: { limit: 500 } });
    const grantIds = new Set(
      page.events.map((e) => (e.data as { grantId?: string }).grantId).filter((g) => g !== undefined),
    );
    expect(grantIds).toEqual(new Set([grant.grantId, sibling.grantId]));
    // The reuse record names no sub: it is found through the grant's stream.
    expect(types(page.events)).toContain('RefreshTokenReuseDetected');
    expect(page.events.every((e) => !JSON.stringify(e.data).includes('sub-bob'))).toBe(true);
    expect(page.events.length).toBe(LIFE.length + 4);
    await expect(
      handler.handle({ context, credential, sub: 'nobody', page: { limit: 10 } }),
    ).rejects.toMatchObject({
      error: 'not_found',
    });
  });

  it('token_state and grant_state: every access token of the revoked grant reads revoked; rebuild equals live (ES-03)', async () => {
    const runner = new ProjectionRunner(ds, store, [
      tokenStateProjection as Projection,
      grantStateProjection as Projection,
    ]);
    await runner.catchUp();
    const rows = new ProjectionRows(ds);
    const effective = async (jti: string) => {
      const t = await rows.get<TokenStateRow>(TOKEN_STATE, jti);
      return effectiveTokenState(
        t,
        t?.grantId ? await rows.get<GrantStateRow>(GRANT_STATE, t.grantId) : null,
      );
    };
    for (const at of grant.accessTokens) {
      expect(await effective(at.jti)).toMatchObject({ status: 'revoked', grantId: grant.grantId });
      // Personal data is not published, so the projection fed from the stream does not hold it.
      expect(await effective(at.jti)).not.toHaveProperty('username');
    }
    for (const at of [...sibling.accessTokens, ...stranger.accessTokens]) {
      expect((await effective(at.jti))?.status).toBe('active');
    }
    for (const p of [tokenStateProjection, grantStateProjection]) {
      expect(await rebuildAndCompare(ds, store, p as Projection)).toMatchObject({ equal: true });
    }
  });

  it('the grant and user history queries are index scans, not a scan of the whole log', async () => {
    // Filler: 4,000 access tokens of 400 other users in 8 appends.
    for (let batch = 0; batch < 8; batch++) {
      await store.appendMany(
        Array.from({ length: 500 }, (_, i) => {
          const n = batch * 500 + i;
          return {
            streamId: `access-token-filler-${n}`,
            expectedVersion: 0,
            events: [
              {
                type: 'AccessTokenIssued',
                data: {
                  jti: `filler-${n}`,
                  clientId: `client-${n % 50}`,
                  sub: `user-${n % 400}`,
                  aud: [],
                  scope: [],
                  grantType: 'authorization_code',
                  grantId: `grant-${n % 900}`,
                  iat: 1,
                  exp: 2,
                  kid: 'k',
                },
              },
            ],
          };
        }),
      );
    }
    await ds.query('ANALYZE events');
    const log = new PgAuditLog(ds);
    const bounds = { limit: 100, after: 0 };
    const userPlan = await log.explain({ ...bounds, ...userHistoryCriteria('sub-alice') });
    const grantPlan = await log.explain({
      ...bounds,
      ...grantHistoryCriteria(grant.grantId, { sub: 'sub-alice', clientId: 'c1' }),
    });
    for (const plan of [userPlan, grantPlan]) expect(plan).not.toMatch(/Seq Scan on events/);
    expect(userPlan).toContain('events_data_sub_idx');
    expect(userPlan).toContain('events_stream_version_key');
    expect(grantPlan).toContain('events_stream_version_key');
    expect(grantPlan).toContain('events_data_sub_idx');
    // And the answers are unchanged by the filler.
    expect(types((await grantHistory()).events)).toEqual(LIFE);
  });
});
