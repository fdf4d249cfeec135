import { randomUUID } from 'node:crypto';
import { type DataSource } from 'typeorm';
import {
  accessTokenStreamId,
  decideAccessToken,
  initialAccessTokenState,
  TOKEN_STATE,
  tokenStateProjection,
} from '#lib/domain-token';
import {
  createEventStoreDataSource,
  PgEventStore,
  type Projection,
  ProjectionRunner,
  rebuildAndCompare,
} from '#lib/event-store';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';

/** token_state is a bounded read model (issue 6): expired tokens leave it, their events stay. */
describe('token_state projection: expiry and rebuild', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: PgEventStore;
  const t0 = Date.UTC(2026, 10, 25, 12, 0, 0);
  let now = t0;
  const clock = () => now;
  const projection = tokenStateProjection as Projection;
  const jtis: string[] = [];

  const issue = async (ttlSeconds: number) => {
    const jti = randomUUID();
    jtis.push(jti);
    const events = decideAccessToken(
      {
        type: 'IssueAccessToken',
        jti,
        clientId: 'c1',
        sub: 'c1',
        aud: ['https://api.example'],
        scope: ['read'],
        grantType: 'client_credentials',
        now: new Date(t0),
        ttlSeconds,
        kid: 'k1',
      },
      initialAccessTokenState(),
    );
    await store.appendToStream(accessTokenStreamId(jti), 0, events);
    return jti;
  };
  const count = async (sql: string, params: unknown[] = []) =>
    ((await ds.query(sql, params)) as { n: number }[])[0]!.n;
  const rows = () =>
    count(`SELECT count(*)::int AS n FROM projection_rows WHERE projection = $1`, [TOKEN_STATE]);
  const events = () => count(`SELECT count(*)::int AS n FROM events`);

  beforeAll(async () => {
    db = await createTestDatabase('token_state');
    await runMigrations(db.url);
    ds = createEventStoreDataSource(db.url, { poolSize: 4 });
    await ds.initialize();
    store = new PgEventStore(ds);
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('drops expired tokens by itself while their events stay, and a rebuild at the same instant agrees', async () => {
    const short = [await issue(60), await issue(60), await issue(60)];
    await issue(3600);
    await issue(3600);
    await store.appendToStream(accessTokenStreamId(short[0]!), 1, [
      {
        type: 'AccessTokenRevoked',
        data: {
          jti: short[0],
          revokedAt: new Date(t0).toISOString(),
          revokedBy: 'c1',
          reason: 'revocation_request',
        },
      },
    ]);
    // Every pass prunes (pruneIntervalMs 0): the test steps the clock across the expiry instant.
    const runner = new ProjectionRunner(ds, store, [projection], { clock, pruneIntervalMs: 0 });
    await runner.catchUp();
    expect(await rows()).toBe(5);
    expect(await events()).toBe(6);
    expect(await rebuildAndCompare(ds, store, projection, { clock })).toMatchObject({
      equal: true,
      liveRows: 5,
      rebuiltRows: 5,
    });

    now = t0 + 59_000;
    await runner.runOnce();
    expect(await rows()).toBe(5);
    now = t0 + 60_000;
    expect(await runner.runOnce()).toBe(0);
    expect(await rows()).toBe(2);
    expect(await events()).toBe(6);
    const report = await rebuildAndCompare(ds, store, projection, { clock });
    expect(report).toMatchObject({ equal: true, liveRows: 2, rebuiltRows: 2, replaced: false });
    expect(
      await count(`SELECT count(*)::int AS n FROM projection_rows WHERE projection <> $1`, [TOKEN_STATE]),
    ).toBe(0);
  });

  it('reports a live row that differs from the events, and replaces the live rows on request', async () => {
    const [kept, lost] = jtis.slice(3);
    await ds.query(
      `UPDATE projection_rows SET doc = jsonb_set(doc, '{status}', '"active"') || '{"scope":["admin"]}'
       WHERE projection = $1 AND key = $2`,
      [TOKEN_STATE, kept],
    );
    await ds.query(`DELETE FROM projection_rows WHERE projection = $1 AND key = $2`, [TOKEN_STATE, lost]);
    let report = await rebuildAndCompare(ds, store, projection, { clock });
    expect(report).toMatchObject({ equal: false, different: [kept], onlyRebuilt: [lost], onlyLive: [] });
    report = await rebuildAndCompare(ds, store, projection, { clock, replace: true });
    expect(report).toMatchObject({ equal: false, replaced: true });
    report = await rebuildAndCompare(ds, store, projection, { clock });
    expect(report).toMatchObject({ equal: true, liveRows: 2 });
    const [row] = await ds.query(`SELECT doc FROM projection_rows WHERE projection = $1 AND key = $2`, [
      TOKEN_STATE,
      kept,
    ]);
    expect(row.doc.scope).toEqual(['read']);
  });
});
