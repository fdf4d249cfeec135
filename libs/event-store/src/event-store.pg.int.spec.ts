import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import pg from 'pg';
import { type DataSource } from 'typeorm';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { createEventStoreDataSource, runEventStoreMigrations } from './data-source.js';
import { ExpectedVersionConflict, type RecordedEvent } from './event-store.js';
import { verifyChain, verifyStoredChain } from './hash-chain.js';
import { PgEventStore } from './pg-event-store.js';
import { STREAM_VERSIONS } from './pg-statements.js';
import { describeEventStoreContract } from './testing/index.js';

let db: TestDatabase;
let dataSource: DataSource;

beforeAll(async () => {
  db = await createTestDatabase('event_store');
  await runMigrations(db.url);
  dataSource = createEventStoreDataSource(db.url, { poolSize: 8, applicationName: 'event-store-int' });
  await dataSource.initialize();
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
});

describeEventStoreContract('PgEventStore', () => new PgEventStore(dataSource));

describe('PgEventStore on Postgres', () => {
  const stream = (category = 'pg') => `${category}-${randomUUID()}`;
  const ev = (type: string, data: unknown = {}) => ({ type, data });

  it('applies its migrations once, recorded in schema_migrations', async () => {
    expect(await runEventStoreMigrations(dataSource)).toEqual([]);
    const rows: { name: string }[] = await dataSource.query('SELECT name FROM schema_migrations');
    expect(rows.map((r) => r.name)).toEqual([
      'Events1795625234752',
      'EventHashChain1795710000000',
      'ProjectionExpiry1795710000001',
      'AuditIndexes1795710000002',
      'AuditGrantUserIndexes1795710000003',
      'GrantRevokedIndex1795710000004',
      'LoginThrottle1795711000000',
      'StreamSnapshots1795712000000',
      'PersonalDataKeys1796000000000',
      'EventArchives1796100000000',
      'RetentionScan1796200000000',
    ]);
  });

  it("probes a refresh token's history through the partial index, not by reading the stream", async () => {
    const store = new PgEventStore(dataSource);
    const id = stream('grant');
    const events = Array.from({ length: 300 }, (_, i) => ev('RefreshTokenRotated', { tokenHash: `h${i}` }));
    await store.appendToStream(id, 0, events);
    await dataSource.query('ANALYZE events');
    expect(
      await store.streamHasEvent(id, { types: ['RefreshTokenRotated'], field: 'tokenHash', equals: 'h7' }),
    ).toBe(true);
    const plan: { 'QUERY PLAN': string }[] = await dataSource.query(
      `EXPLAIN SELECT 1 FROM events
       WHERE stream_id = $1 AND type IN ('RefreshTokenIssued', 'RefreshTokenRotated')
         AND (data->>'tokenHash') = $2 LIMIT 1`,
      [id, 'h7'],
    );
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain('events_grant_token_hash_idx');
    await expect(
      store.streamHasEvent(id, { types: ["x') OR true --"], field: 'tokenHash', equals: 'h7' }),
    ).rejects.toThrow('plain names');
  });

  it("reads a long stream's version with one backward index step, not by aggregating the stream", async () => {
    const store = new PgEventStore(dataSource);
    const id = stream('long');
    await store.appendToStream(
      id,
      0,
      Array.from({ length: 300 }, (_, i) => ev('Rotated', { i })),
    );
    await dataSource.query('ANALYZE events');
    expect(await store.streamVersions([id, stream()])).toEqual(
      new Map([
        [id, 300],
        [expect.any(String), 0],
      ]),
    );
    const plan: { 'QUERY PLAN': string }[] = await dataSource.query(`EXPLAIN ${STREAM_VERSIONS}`, [[id]]);
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index (Only )?Scan Backward using events_stream_version_key/);
    expect(text).not.toMatch(/Aggregate/);
  });

  it('prepares the hot statements once per connection (parse and plan once; generic plans in appends)', async () => {
    const single = createEventStoreDataSource(db.url, { poolSize: 1 });
    await single.initialize();
    try {
      const store = new PgEventStore(single);
      const id = stream('prepared');
      await store.appendToStream(id, 0, [ev('Opened')]);
      await store.appendToStream(id, 1, [ev('Used')]);
      expect((await store.readStream(id)).map((e) => e.type)).toEqual(['Opened', 'Used']);
      await store.readStream(id);
      const prepared: { name: string; generic_plans: string; custom_plans: string }[] = await single.query(
        `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name`,
      );
      const byName = new Map(prepared.map((p) => [p.name, p]));
      for (const name of ['append-clock-tip-versions', 'append-events', 'read-stream']) {
        expect(byName.has(name)).toBe(true);
      }
      // Within an append, plan_cache_mode=force_generic_plan: the plan is made once and reused.
      expect(Number(byName.get('append-events')!.generic_plans)).toBe(2);
      expect(Number(byName.get('append-events')!.custom_plans)).toBe(0);
      // Outside an append the setting is the server's again.
      const [mode] = await single.query(`SELECT current_setting('plan_cache_mode') AS mode`);
      expect(mode.mode).toBe('auto');
    } finally {
      await single.destroy();
    }
  });

  it('commits a batch in four round trips: BEGIN with the lock, clock/tip/versions/positions, insert, COMMIT (issue 9)', async () => {
    const single = createEventStoreDataSource(db.url, { poolSize: 1 });
    await single.initialize();
    try {
      const pool = (single.driver as unknown as { master: EventEmitter }).master;
      let statements = 0;
      const counted = new WeakSet<object>();
      pool.on('acquire', (client: { query: (...a: unknown[]) => unknown }) => {
        if (counted.has(client)) return;
        counted.add(client);
        const query = client.query.bind(client);
        client.query = (...a: unknown[]) => {
          statements++;
          return query(...a);
        };
      });
      const store = new PgEventStore(single);
      await store.appendToStream(stream('warm'), 0, [ev('Opened')]);
      statements = 0;
      const a = stream('rt-a');
      const b = stream('rt-b');
      const c = stream('rt-c');
      // One batch (same turn): b's version check fails; a and c are written, b's positions stay unused.
      const outcomes = await Promise.allSettled([
        store.appendToStream(a, 0, [ev('Opened'), ev('Used')]),
        store.appendToStream(b, 3, [ev('Opened')]),
        store.appendToStream(c, 0, [ev('Opened')]),
      ]);
      expect(statements).toBe(4);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(ExpectedVersionConflict);
      const [first] = await store.readStream(a);
      const all = await store.readAll(first!.globalPosition - 1, 10);
      expect(all.map((e) => e.streamId)).toEqual([a, a, c]);
      const positions = all.map((e) => e.globalPosition);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      // An append's events are consecutive; the hash chain runs over the unused positions.
      expect(all[1]!.globalPosition).toBe(all[0]!.globalPosition + 1);
      expect(all[1]!.prevHash).toBe(all[0]!.hash);
      expect(all[2]!.prevHash).toBe(all[1]!.hash);
    } finally {
      await single.destroy();
    }
  });

  it('reads streams asked for in one turn with one statement, each its own events (issue 9)', async () => {
    const store = new PgEventStore(dataSource);
    const a = stream('rs-a');
    const b = stream('rs-b');
    await store.appendToStream(a, 0, [ev('A1'), ev('A2'), ev('A3')]);
    await store.appendToStream(b, 0, [ev('B1')]);
    const pool = (dataSource.driver as unknown as { master: { query: (...a: unknown[]) => unknown } }).master;
    const names: string[] = [];
    const query = pool.query.bind(pool);
    pool.query = (...args: unknown[]) => {
      const name = (args[0] as { name?: string })?.name;
      if (name?.startsWith('read-stream')) names.push(name);
      return query(...args);
    };
    try {
      const reads = await Promise.all([
        store.readStream(a),
        store.readStream(b),
        store.readStream(a, { fromVersion: 2 }),
        store.readStream(stream('rs-none')),
        store.readStream(a),
      ]);
      expect(names).toEqual(['read-streams']);
      expect(reads.map((events) => events.map((e) => e.type))).toEqual([
        ['A1', 'A2', 'A3'],
        ['B1'],
        ['A2', 'A3'],
        [],
        ['A1', 'A2', 'A3'],
      ]);
      expect(reads[0]![0]).toMatchObject({ streamId: a, streamVersion: 1, hash: expect.any(String) });

      // Alone, its own statement; an append that resolved before the read is in it.
      names.length = 0;
      await store.appendToStream(b, 1, [ev('B2')]);
      expect((await store.readStream(b)).map((e) => e.type)).toEqual(['B1', 'B2']);
      expect(names).toEqual(['read-stream']);

      // A failed statement fails every read that waited for it.
      pool.query = () => Promise.reject(new Error('connection lost'));
      const failed = await Promise.allSettled([store.readStream(a), store.readStream(b)]);
      expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    } finally {
      pool.query = query;
    }
    expect(await store.readStream(a)).toHaveLength(3);
  });

  it('lets exactly one of two processes appending at the same expected version win, every time', async () => {
    const other = createEventStoreDataSource(db.url, { poolSize: 2 });
    await other.initialize();
    try {
      const left = new PgEventStore(dataSource);
      const right = new PgEventStore(other);
      for (let round = 0; round < 20; round++) {
        const id = stream('race');
        await left.appendToStream(id, 0, [ev('Opened')]);
        const outcomes = await Promise.allSettled([
          left.appendToStream(id, 1, [ev('Left')]),
          right.appendToStream(id, 1, [ev('Right')]),
        ]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.reason).toBeInstanceOf(ExpectedVersionConflict);
        expect(lost[0]!.reason).toMatchObject({ streamId: id, expectedVersion: 1, actualVersion: 2 });
        expect((await left.readStream(id)).map((e) => e.streamVersion)).toEqual([1, 2]);
      }
    } finally {
      await other.destroy();
    }
  });

  it('group commit: writes 200 concurrent appends in fewer transactions, all readable', async () => {
    const store = new PgEventStore(dataSource);
    const ids = Array.from({ length: 200 }, () => stream('group'));
    const results = await Promise.all(ids.map((id, i) => store.appendToStream(id, 0, [ev('Opened', { i })])));

    const stats = store.stats();
    expect(stats.appendsCommitted).toBe(200);
    expect(stats.batchesCommitted).toBeLessThan(200);
    expect(stats.averageBatchAppends).toBeGreaterThan(1);
    expect(new Set(results.map((r) => r.lastGlobalPosition)).size).toBe(200);
    for (const [i, id] of ids.entries()) {
      const read = await store.readStream(id);
      expect(read.map((e) => [e.streamVersion, e.data])).toEqual([[1, { i }]]);
      expect(read[0]!.globalPosition).toBe(results[i]!.lastGlobalPosition);
    }
  });

  it('group commit: keeps batches at maxBatchSize', async () => {
    const store = new PgEventStore(dataSource, { maxBatchSize: 10 });
    await Promise.all(Array.from({ length: 25 }, () => store.appendToStream(stream('small'), 0, [ev('A')])));
    expect(store.stats().batchesCommitted).toBeGreaterThanOrEqual(3);
    expect(store.stats().appendsCommitted).toBe(25);
  });

  it('group commit: one conflicting append fails alone, the rest of its batch commits', async () => {
    const store = new PgEventStore(dataSource);
    const taken = stream('taken');
    await store.appendToStream(taken, 0, [ev('First')]);
    const before = store.stats().batchesCommitted;
    const ids = Array.from({ length: 30 }, () => stream('batch'));
    const outcomes = await Promise.allSettled([
      ...ids.slice(0, 15).map((id) => store.appendToStream(id, 0, [ev('A')])),
      store.appendToStream(taken, 0, [ev('Second')]),
      ...ids.slice(15).map((id) => store.appendToStream(id, 0, [ev('A')])),
    ]);
    expect(store.stats().batchesCommitted - before).toBe(1);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(30);
    expect(outcomes[15]).toMatchObject({ status: 'rejected', reason: { name: 'ExpectedVersionConflict' } });
    for (const id of ids) expect(await store.readStream(id)).toHaveLength(1);
    expect((await store.readStream(taken)).map((e) => e.type)).toEqual(['First']);
  });

  it('unique (stream_id, stream_version) decides even against a writer that skips the lock; preconditions are checked again in the fallback', async () => {
    const store = new PgEventStore(dataSource);
    const contested = stream('contested');
    const others = Array.from({ length: 5 }, () => stream('bystander'));
    const staleView = stream('expects-0');
    const freshView = stream('expects-1');
    const intruder = new pg.Client({ connectionString: db.url });
    await intruder.connect();
    try {
      await intruder.query('BEGIN');
      await intruder.query(
        `INSERT INTO events (event_id, stream_id, stream_version, type, data) VALUES ($1, $2, 1, 'Intruder', '{}')`,
        [randomUUID(), contested],
      );
      const appends = Promise.allSettled([
        store.appendToStream(contested, 0, [ev('Mine')]),
        ...others.map((id) => store.appendToStream(id, 0, [ev('A')])),
        // Under the lock the intruder's row is not yet visible (version 0): only the fallback,
        // after its commit, sees version 1.
        store.appendMany([{ streamId: staleView, expectedVersion: 0, events: [ev('A')] }], {
          expect: [{ streamId: contested, version: 0 }],
        }),
        store.appendMany([{ streamId: freshView, expectedVersion: 0, events: [ev('A')] }], {
          expect: [{ streamId: contested, version: 1 }],
        }),
      ]);
      // The store's insert now waits on the intruder's uncommitted row in the unique index.
      await waitUntil(async () => {
        const { rows } = await intruder.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return rows[0].n > 0;
      });
      await intruder.query('COMMIT');
      const outcomes = await appends;

      expect(outcomes[0]).toMatchObject({
        status: 'rejected',
        reason: { name: 'ExpectedVersionConflict', streamId: contested, actualVersion: 1 },
      });
      expect(outcomes.slice(1, 1 + others.length).every((o) => o.status === 'fulfilled')).toBe(true);
      expect(outcomes[1 + others.length]).toMatchObject({
        status: 'rejected',
        reason: {
          name: 'ExpectedVersionConflict',
          streamId: contested,
          expectedVersion: 0,
          actualVersion: 1,
        },
      });
      expect(outcomes[2 + others.length]!.status).toBe('fulfilled');
      expect(await store.readStream(staleView)).toEqual([]);
      expect(await store.readStream(freshView)).toHaveLength(1);
      expect(store.stats().fallbackBatches).toBe(1);
      expect((await store.readStream(contested)).map((e) => e.type)).toEqual(['Intruder']);
      for (const id of others) expect(await store.readStream(id)).toHaveLength(1);
    } finally {
      await intruder.end();
    }
  });

  it('a reader following readAll never misses an event committed behind it', async () => {
    const other = createEventStoreDataSource(db.url, { poolSize: 4 });
    await other.initialize();
    try {
      const stores = [new PgEventStore(dataSource), new PgEventStore(other)];
      const start = await stores[0]!.headPosition();
      const seen: RecordedEvent[] = [];
      let writing = true;
      const reader = (async () => {
        let after = start;
        while (writing || (await stores[0]!.readAll(after, 1)).length > 0) {
          const page = await stores[0]!.readAll(after, 50);
          seen.push(...page);
          if (page.length > 0) after = page[page.length - 1]!.globalPosition;
        }
      })();
      await Promise.all(
        stores.map(async (store, s) => {
          for (let wave = 0; wave < 10; wave++) {
            await Promise.all(
              Array.from({ length: 20 }, (_, i) =>
                store.appendToStream(stream(`w${s}`), 0, [ev('A', { wave, i })]),
              ),
            );
          }
        }),
      );
      writing = false;
      await reader;
      const all = await stores[0]!.readAll(start, 10_000);
      expect(all).toHaveLength(400);
      expect(seen.map((e) => e.globalPosition)).toEqual(all.map((e) => e.globalPosition));
    } finally {
      await other.destroy();
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE on events', async () => {
    const store = new PgEventStore(dataSource);
    const id = stream('immutable');
    await store.appendToStream(id, 0, [ev('A', { n: 1 })]);
    await expect(
      dataSource.query(`UPDATE events SET data = '{"n":2}' WHERE stream_id = $1`, [id]),
    ).rejects.toThrow(/append-only/);
    await expect(dataSource.query(`DELETE FROM events WHERE stream_id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(dataSource.query(`TRUNCATE events`)).rejects.toThrow(/append-only/);
    expect((await store.readStream(id))[0]!.data).toEqual({ n: 1 });
  });

  it('settles every append queued before drain()', async () => {
    const store = new PgEventStore(dataSource);
    const pending = Array.from({ length: 10 }, () => store.appendToStream(stream('drain'), 0, [ev('A')]));
    await store.drain();
    expect(store.stats().appendsCommitted).toBe(10);
    await Promise.all(pending);
  });

  it('hash-chains every event it wrote above (group commits, savepoint fallback); the row written around it is caught', async () => {
    const report = await verifyStoredChain(new PgEventStore(dataSource));
    const [intruder] = await dataSource.query(`SELECT global_position FROM events WHERE type = 'Intruder'`);
    const [before] = await dataSource.query(
      `SELECT count(*)::int AS n FROM events WHERE global_position < $1`,
      [intruder.global_position],
    );
    expect(report.break).toMatchObject({ kind: 'inserted', position: Number(intruder.global_position) });
    expect(report.checked).toBe(before.n);
    expect(report.checked).toBeGreaterThan(100);
    // After an unhashed last row the store starts the chain again from the genesis link: the events
    // written after the intruder (its savepoint fallback batch first) form an intact chain of their own.
    const after = await new PgEventStore(dataSource).readAll(Number(intruder.global_position), 100_000);
    expect(after.length).toBeGreaterThan(5);
    const rest = verifyChain(
      after.map((e) => ({ ...e, prevHash: e.prevHash ?? null, hash: e.hash ?? null })),
    );
    expect(rest).toMatchObject({ ok: true, checked: after.length, unhashed: 0 });
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
