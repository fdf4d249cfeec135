import { randomUUID } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { createEventStoreDataSource } from './data-source.js';
import { type RecordedEvent } from './event-store.js';
import { PgEventStore } from './pg-event-store.js';
import { type Projection } from './projection.js';
import { ProjectionRows } from './projection-rows.js';
import { ProjectionRunner } from './projection-runner.js';

interface StreamRow {
  events: number;
  lastType: string;
}

/** Rows per stream; a `Closed` event deletes the stream's row. */
const perStream: Projection<StreamRow> = {
  name: 'events-per-stream',
  keyOf: (e) => e.streamId,
  evolve: (row, e) => (e.type === 'Closed' ? null : { events: (row?.events ?? 0) + 1, lastType: e.type }),
};

/** One row per event type, touched by many events of a batch. */
const perType: Projection<{ count: number; positions: number[] }> = {
  name: 'events-per-type',
  keyOf: (e) => (e.type === 'Ignored' ? null : e.type),
  evolve: (row, e) => ({
    count: (row?.count ?? 0) + 1,
    positions: [...(row?.positions ?? []), e.globalPosition],
  }),
};

/** The rows a projection must hold after `events`, folded in memory. */
function foldInMemory<Row>(projection: Projection<Row>, events: RecordedEvent[]) {
  const rows = new Map<string, { row: Row; position: number }>();
  for (const e of events) {
    const key = projection.keyOf(e);
    if (key === null) continue;
    const next = projection.evolve(rows.get(key)?.row ?? null, e);
    if (next === null) rows.delete(key);
    else rows.set(key, { row: next, position: e.globalPosition });
  }
  return [...rows]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, { row, position }]) => ({ key, row, position }));
}

let db: TestDatabase;
let dataSource: DataSource;
let store: PgEventStore;
let rows: ProjectionRows;

beforeAll(async () => {
  db = await createTestDatabase('projection_runner');
  await runMigrations(db.url);
  dataSource = createEventStoreDataSource(db.url, { poolSize: 6 });
  await dataSource.initialize();
  store = new PgEventStore(dataSource);
  rows = new ProjectionRows(dataSource);
}, 30_000);

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
}, 30_000);

/** Appends `streams` streams of a few events each (some closed, some with ignored events). */
async function appendSome(streams: number, category = 'proj'): Promise<number> {
  let last = 0;
  await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const id = `${category}-${randomUUID()}`;
      const types = [
        'Opened',
        'Changed',
        ...(i % 3 === 0 ? ['Ignored'] : []),
        ...(i % 4 === 0 ? ['Closed'] : []),
      ];
      const r = await store.appendToStream(
        id,
        0,
        types.map((type) => ({ type, data: { i } })),
      );
      if (i % 2 === 0) await store.appendToStream(id, r.nextExpectedVersion, [{ type: 'Changed', data: {} }]);
      last = Math.max(last, await store.headPosition());
    }),
  );
  return last;
}

async function allEvents(): Promise<RecordedEvent[]> {
  return store.readAll(0, 1_000_000);
}

describe('ProjectionRunner (STYLE.md habit 12)', () => {
  it('folds every event into rows, in batches, and moves the checkpoint to the head', async () => {
    const runner = new ProjectionRunner(dataSource, store, [perStream, perType], {
      batchSize: 7,
      checkpointName: 'fold',
    });
    await appendSome(30);
    const read = await runner.catchUp();
    const events = await allEvents();
    expect(read).toBe(events.length);
    expect(await runner.position()).toBe(await store.headPosition());
    expect(await rows.all(perStream.name)).toEqual(foldInMemory(perStream, events));
    expect(await rows.all(perType.name)).toEqual(foldInMemory(perType, events));
    expect(await runner.runOnce()).toBe(0);
  });

  it('a projection that lists its event types reads only those, and its checkpoint still reaches the head', async () => {
    const changes: Projection<{ n: number }> = {
      name: 'changes-per-stream',
      eventTypes: ['Changed'],
      keyOf: (e) => (e.type === 'Changed' ? e.streamId : null),
      evolve: (row) => ({ n: (row?.n ?? 0) + 1 }),
    };
    let loaded: RecordedEvent[] = [];
    const watching = Object.create(store) as PgEventStore;
    watching.readAll = () => Promise.reject(new Error('read every type'));
    watching.readAllOfTypes = async (after, limit, types) => {
      const page = await store.readAllOfTypes(after, limit, types);
      loaded = loaded.concat(page.events);
      return page;
    };
    const runner = new ProjectionRunner(dataSource, watching, [changes], {
      batchSize: 4,
      checkpointName: 'typed',
    });
    await appendSome(12);
    // The last events are of other types: the checkpoint moves past them all the same.
    await store.appendToStream(`proj-${randomUUID()}`, 0, [{ type: 'Opened', data: {} }]);
    await runner.catchUp();
    const events = await allEvents();
    expect(loaded.map((e) => e.type)).toEqual(
      events.filter((e) => e.type === 'Changed').map(() => 'Changed'),
    );
    expect(await runner.position()).toBe(await store.headPosition());
    expect(await rows.all(changes.name)).toEqual(foldInMemory(changes, events));
    expect(await runner.runOnce()).toBe(0);
  });

  it('rebuilding from position 0 gives the rows the live runner built', async () => {
    const runner = new ProjectionRunner(dataSource, store, [perStream, perType], {
      batchSize: 5,
      checkpointName: 'fold',
    });
    for (let wave = 0; wave < 4; wave++) {
      await appendSome(8);
      await runner.catchUp();
    }
    const liveStreams = await rows.all(perStream.name);
    const liveTypes = await rows.all(perType.name);
    const otherCheckpoint = await checkpoint('fold:events-per-type');

    await runner.rebuild(perStream.name);

    expect(await rows.all(perStream.name)).toEqual(liveStreams);
    expect(await rows.all(perType.name)).toEqual(liveTypes);
    expect(await checkpoint('fold:events-per-type')).toBe(otherCheckpoint);
    expect(liveStreams).toEqual(foldInMemory(perStream, await allEvents()));
  });

  it('changes nothing when the same events are delivered again', async () => {
    const runner = new ProjectionRunner(dataSource, store, [perStream, perType], { checkpointName: 'fold' });
    const before = await store.headPosition();
    await appendSome(5);
    const fresh = await store.readAll(before, 1000);

    expect(await runner.handleEvents(fresh)).toBe(fresh.length);
    const once = [await rows.all(perStream.name), await rows.all(perType.name)];
    expect(await runner.handleEvents(fresh)).toBe(0);
    expect(await runner.handleEvents([...fresh].reverse())).toBe(0);
    expect(await runner.catchUp()).toBe(0);
    expect([await rows.all(perStream.name), await rows.all(perType.name)]).toEqual(once);
    expect(once[1]).toEqual(foldInMemory(perType, await allEvents()));
  });

  describe('a projection whose events start their rows (Projection.startsRow, issue 9)', () => {
    /** perStream, where the first event of a stream starts its row. */
    const startingPerStream: Projection<StreamRow> = {
      ...perStream,
      name: 'events-per-stream-starting',
      startsRow: (e) => e.streamVersion === 1,
    };

    it('folds to the rows a projection that looks every row up folds to, across passes and within one', async () => {
      const runner = new ProjectionRunner(dataSource, store, [startingPerStream], {
        batchSize: 4,
        checkpointName: 'starting',
      });
      for (let wave = 0; wave < 3; wave++) {
        await appendSome(6);
        await runner.catchUp();
      }
      expect(await rows.all(startingPerStream.name)).toEqual(
        foldInMemory(startingPerStream, await allEvents()),
      );
    });

    it('does not look up the row a starting event folds into', async () => {
      const id = `start-${randomUUID()}`;
      await store.appendToStream(id, 0, [{ type: 'Opened', data: {} }]);
      const [opened] = await store.readStream(id);
      // A row the contract says cannot exist (stored before the stream's first event): folding
      // `Opened` over it would count 8; folding over no row counts 1.
      await dataSource.query(
        `INSERT INTO projection_rows (projection, key, doc, position) VALUES ($1, $2, $3, $4)`,
        [startingPerStream.name, id, { events: 7, lastType: 'Stale' }, opened!.globalPosition - 1],
      );
      const runner = new ProjectionRunner(dataSource, store, [startingPerStream], {
        checkpointName: `look-${randomUUID()}`,
      });
      await runner.handleEvents([opened!]);
      expect(await rows.get(startingPerStream.name, id)).toEqual({ events: 1, lastType: 'Opened' });
    });

    it('leaves a stored row at or past the event as it is, as a looked-up row would be skipped', async () => {
      const id = `start-${randomUUID()}`;
      await store.appendToStream(id, 0, [
        { type: 'Opened', data: {} },
        { type: 'Changed', data: {} },
      ]);
      const folded = new ProjectionRunner(dataSource, store, [startingPerStream], {
        checkpointName: `first-${randomUUID()}`,
      });
      await folded.catchUp();
      const head = await store.headPosition();
      await dataSource.query(
        `UPDATE projection_rows SET doc = $3, position = $4 WHERE projection = $1 AND key = $2`,
        [startingPerStream.name, id, { events: 99, lastType: 'Later' }, head + 1],
      );
      // Another runner's checkpoint starts at 0: it folds the stream's events again.
      const again = new ProjectionRunner(dataSource, store, [startingPerStream], {
        checkpointName: `again-${randomUUID()}`,
      });
      await again.catchUp();
      expect(await rows.get(startingPerStream.name, id)).toEqual({ events: 99, lastType: 'Later' });
    });
  });

  it('reads the store instead when delivered events leave a gap after the checkpoint', async () => {
    const runner = new ProjectionRunner(dataSource, store, [perStream, perType], { checkpointName: 'fold' });
    await runner.catchUp();
    const before = await store.headPosition();
    await appendSome(4);
    const fresh = await store.readAll(before, 1000);

    expect(await runner.handleEvents(fresh.slice(3))).toBe(fresh.length);
    expect(await rows.all(perType.name)).toEqual(foldInMemory(perType, await allEvents()));
  });

  it('two runners on the same database give the rows one runner gives', async () => {
    const other = createEventStoreDataSource(db.url, { poolSize: 4 });
    await other.initialize();
    try {
      const a = new ProjectionRunner(dataSource, store, [perStream, perType], {
        batchSize: 3,
        checkpointName: 'fold',
      });
      const b = new ProjectionRunner(other, new PgEventStore(other), [perType, perStream], {
        batchSize: 4,
        checkpointName: 'fold',
      });
      const writing = (async () => {
        for (let wave = 0; wave < 5; wave++) await appendSome(6);
      })();
      const race = async (runner: ProjectionRunner) => {
        for (let i = 0; i < 15; i++) await runner.runOnce();
      };
      await Promise.all([writing, race(a), race(b)]);
      await Promise.all([a.catchUp(), b.catchUp()]);

      const events = await allEvents();
      expect(await rows.all(perStream.name)).toEqual(foldInMemory(perStream, events));
      expect(await rows.all(perType.name)).toEqual(foldInMemory(perType, events));
    } finally {
      await other.destroy();
    }
  });

  it('waitFor resolves once the position is folded, and times out past the head', async () => {
    const projection = { ...perStream, name: 'wait-per-stream' };
    const runner = new ProjectionRunner(dataSource, store, [projection], { checkpointName: 'wait' });
    const id = `wait-${randomUUID()}`;
    const { lastGlobalPosition } = await store.appendToStream(id, 0, [{ type: 'Opened', data: {} }]);
    await runner.waitFor(lastGlobalPosition, 10_000);
    expect(await rows.get<StreamRow>(projection.name, id)).toEqual({ events: 1, lastType: 'Opened' });
    await expect(runner.waitFor(lastGlobalPosition + 1000, 100)).rejects.toThrow(/did not reach position/);
  });

  it('keeps running in the background and survives its connections being killed', async () => {
    const errors: unknown[] = [];
    const projection = { ...perStream, name: 'loop-per-stream' };
    const runner = new ProjectionRunner(dataSource, store, [projection], {
      checkpointName: 'loop',
      retryDelayMs: 50,
      logger: { error: (_message, err) => errors.push(err) },
    });
    runner.start(20);
    try {
      const first = `loop-${randomUUID()}`;
      await store.appendToStream(first, 0, [{ type: 'Opened', data: {} }]);
      await waitUntil(async () => (await rows.get(projection.name, first)) !== null);

      await dataSource.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      const second = `loop-${randomUUID()}`;
      await retry(() => store.appendToStream(second, 0, [{ type: 'Opened', data: {} }]));
      runner.notify();
      await waitUntil(async () => (await rows.get(projection.name, second)) !== null);
    } finally {
      await runner.stop();
    }
  });

  it('deletes expired rows on its first pass, then on the first pass pruneIntervalMs later by its clock; never writes a row expired already', async () => {
    /** One row per stream, expiring at the `until` (ms) of its last event. */
    const expiring: Projection<{ until: number }> = {
      name: 'expiring-per-stream',
      keyOf: (e) => (e.streamId.startsWith('exp-') ? e.streamId : null),
      evolve: (_row, e) => ({ until: (e.data as { until: number }).until }),
      expiresAt: (row) => row.until,
    };
    let now = 1_000_000;
    const runner = new ProjectionRunner(dataSource, store, [expiring], {
      checkpointName: 'expiry',
      clock: () => now,
      pruneIntervalMs: 5000,
    });
    const append = (until: number, streamId = `exp-${randomUUID()}`, version = 0) =>
      store.appendToStream(streamId, version, [{ type: 'Until', data: { until } }]);
    const keys = async () => (await rows.all(expiring.name)).length;

    await runner.catchUp();
    await append(now - 1);
    const { streamId: soon } = await append(now + 3000);
    const { streamId: later } = await append(now + 60_000);
    expect(await runner.runOnce()).toBe(3);
    // The one expired when folded is not written.
    expect(await keys()).toBe(2);

    const [, { lastGlobalPosition }] = [await append(now - 1), await append(now + 60_000)];
    now += 4000;
    expect(await runner.runOnce()).toBe(2);
    // `soon` has expired meanwhile and stays until the next prune; the new expired one is not written.
    expect(await keys()).toBe(3);
    expect(await runner.position()).toBe(lastGlobalPosition);

    now += 1000;
    expect(await runner.runOnce()).toBe(0);
    expect(await keys()).toBe(2);
    expect((await rows.all(expiring.name)).map((r) => r.key)).not.toContain(soon);
    await append(now - 1);
    expect(await runner.runOnce()).toBe(1);
    expect(await keys()).toBe(2);

    // An event that leaves a stored row expired deletes it in the same pass.
    await append(now - 1, later, 1);
    expect(await runner.runOnce()).toBe(1);
    expect((await rows.all(expiring.name)).map((r) => r.key)).not.toContain(later);
    expect(await keys()).toBe(1);
  });

  it('a pass recreates checkpoint rows deleted under it, and moves them', async () => {
    const projection = { ...perStream, name: 'recreated-per-stream' };
    const runner = new ProjectionRunner(dataSource, store, [projection], { checkpointName: 'recreated' });
    await store.appendToStream(`rec-${randomUUID()}`, 0, [{ type: 'Opened', data: {} }]);
    await runner.catchUp();
    await dataSource.query(`DELETE FROM checkpoints WHERE name = 'recreated:recreated-per-stream'`);
    const { lastGlobalPosition } = await store.appendToStream(`rec-${randomUUID()}`, 0, [
      { type: 'Opened', data: {} },
    ]);
    await runner.catchUp();
    expect(await checkpoint('recreated:recreated-per-stream')).toBe(lastGlobalPosition);
    expect(await runner.runOnce()).toBe(0);
  });

  it('ProjectionRows: reads asked for in one turn are one statement, and each gets its own answer (issue 9)', async () => {
    await dataSource.query(
      `INSERT INTO projection_rows (projection, key, doc, position)
       VALUES ('batch-a', 'k1', '{"n":1}', 1), ('batch-a', 'k2', '{"n":2}', 2), ('batch-b', 'k1', '{"n":3}', 3)`,
    );
    const s1 = `batch-${randomUUID()}`;
    const s2 = `batch-${randomUUID()}`;
    await store.appendToStream(s1, 0, [{ type: 'A', data: {} }]);
    await store.appendToStream(s2, 0, [
      { type: 'A', data: {} },
      { type: 'B', data: {} },
      { type: 'C', data: {} },
    ]);
    const pool = (dataSource.driver as unknown as { master: { query: (...a: unknown[]) => unknown } }).master;
    const statements: string[] = [];
    const query = pool.query.bind(pool);
    pool.query = (...args: unknown[]) => {
      const config = args[0] as { name?: string };
      if (config?.name?.startsWith('projection-row')) statements.push(config.name);
      return query(...args);
    };
    try {
      const answers = await Promise.all([
        rows.getWithStreamVersions('batch-a', 'k1', [s1]),
        rows.getWithStreamVersions('batch-a', 'k2', [s2, s1]),
        rows.getWithStreamVersions('batch-b', 'k1', []),
        rows.getWithStreamVersions('batch-b', 'k2', ['batch-none']),
        rows.getWithStreamVersions('batch-a', 'k1', [s2, s2]),
      ]);
      expect(statements).toEqual(['projection-rows-with-versions']);
      expect(answers.map((a) => ({ row: a.row, versions: Object.fromEntries(a.versions) }))).toEqual([
        { row: { n: 1 }, versions: { [s1]: 1 } },
        { row: { n: 2 }, versions: { [s2]: 3, [s1]: 1 } },
        { row: { n: 3 }, versions: {} },
        { row: null, versions: { 'batch-none': 0 } },
        { row: { n: 1 }, versions: { [s2]: 3 } },
      ]);

      // Alone, the one-row statement; the next turn's reads see what was written since.
      statements.length = 0;
      await store.appendToStream(s1, 1, [{ type: 'B', data: {} }]);
      const alone = await rows.getWithStreamVersions('batch-a', 'k2', [s1]);
      expect(statements).toEqual(['projection-row-with-1-versions']);
      expect(Object.fromEntries(alone.versions)).toEqual({ [s1]: 2 });

      // A failed read fails every reader that waited for it, and the next reads work again.
      pool.query = () => Promise.reject(new Error('connection lost'));
      const failed = await Promise.allSettled([
        rows.getWithStreamVersions('batch-a', 'k1', [s1]),
        rows.getWithStreamVersions('batch-a', 'k2', [s1]),
      ]);
      expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    } finally {
      pool.query = query;
    }
    expect((await rows.getWithStreamVersions('batch-a', 'k1', [s1])).row).toEqual({ n: 1 });
  });

  it('ProjectionRows.getWithEventOfType: the row, and from the store the event of that type if any, through the partial index (issue 9)', async () => {
    const revoked = `grant-${randomUUID()}`;
    const active = `grant-${randomUUID()}`;
    await store.appendToStream(revoked, 0, [
      { type: 'RefreshTokenIssued', data: { n: 1 } },
      { type: 'RefreshTokenRotated', data: { n: 2 } },
      { type: 'GrantRevoked', data: { at: '2026-11-26T05:00:00.000Z', reason: 'refresh_token_reuse' } },
    ]);
    await store.appendToStream(active, 0, [{ type: 'RefreshTokenIssued', data: { n: 1 } }]);
    await dataSource.query(
      `INSERT INTO projection_rows (projection, key, doc, position) VALUES ('grants-t', 'g1', '{"status":"active"}', 1)`,
    );
    // The row says active (the projection has not folded the revocation); the store says revoked.
    expect(await rows.getWithEventOfType('grants-t', 'g1', revoked, 'GrantRevoked')).toEqual({
      row: { status: 'active' },
      event: { at: '2026-11-26T05:00:00.000Z', reason: 'refresh_token_reuse' },
    });
    expect(await rows.getWithEventOfType('grants-t', 'missing', active, 'GrantRevoked')).toEqual({
      row: null,
      event: null,
    });
    await expect(rows.getWithEventOfType('grants-t', 'g1', active, "x' OR 'a'='a")).rejects.toThrow(
      'not an event type',
    );
    // The literal type lets Postgres answer from events_grant_revoked_idx (only revoked grants' events),
    // not from the stream's own index entries, however long the stream.
    const plan = await dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL enable_seqscan = off`);
      return (await m.query(
        `EXPLAIN SELECT data FROM events WHERE stream_id = '${revoked}' AND type = 'GrantRevoked' LIMIT 1`,
      )) as { 'QUERY PLAN': string }[];
    });
    expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toContain('events_grant_revoked_idx');
  });

  it('ProjectionRows.getWithEventsOfTypes: the row and, for each (stream, type), that event from the store, in one statement', async () => {
    const grant = `grant-${randomUUID()}`;
    const token = `access-token-${randomUUID()}`;
    await store.appendToStream(grant, 0, [{ type: 'GrantRevoked', data: { reason: 'code_replay' } }]);
    await store.appendToStream(token, 0, [{ type: 'AccessTokenIssued', data: { username: 'alice' } }]);
    await dataSource.query(
      `INSERT INTO projection_rows (projection, key, doc, position) VALUES ('grants-m', 'g1', '{"status":"active"}', 1)`,
    );
    expect(
      await rows.getWithEventsOfTypes('grants-m', 'g1', [
        { streamId: grant, type: 'GrantRevoked' },
        { streamId: token, type: 'AccessTokenIssued' },
        { streamId: token, type: 'AccessTokenRevoked' },
      ]),
    ).toEqual({
      row: { status: 'active' },
      events: [{ reason: 'code_replay' }, { username: 'alice' }, null],
    });
    await expect(
      rows.getWithEventsOfTypes('grants-m', 'g1', [{ streamId: token, type: "x' OR 'a'='a" }]),
    ).rejects.toThrow('not an event type');
  });

  it('ProjectionRows reads one row, or all of a projection ordered by key', async () => {
    await dataSource.query(
      `INSERT INTO projection_rows (projection, key, doc, position)
       VALUES ('order', 'b', '{"n":2}', 5), ('order', 'B', '{"n":3}', 6), ('order', 'a', '{"n":1}', 4)`,
    );
    expect(await rows.get('order', 'a')).toEqual({ n: 1 });
    expect(await rows.get('order', 'missing')).toBeNull();
    const stream = `versions-${randomUUID()}`;
    await store.appendToStream(stream, 0, [
      { type: 'A', data: {} },
      { type: 'B', data: {} },
    ]);
    const both = await rows.getWithStreamVersions('order', 'b', [stream, 'versions-none']);
    expect(both.row).toEqual({ n: 2 });
    expect(Object.fromEntries(both.versions)).toEqual({ [stream]: 2, 'versions-none': 0 });
    const none = await rows.getWithStreamVersions('order', 'missing', [stream]);
    expect(none.row).toBeNull();
    expect(Object.fromEntries(none.versions)).toEqual({ [stream]: 2 });
    expect(await rows.all('order')).toEqual([
      { key: 'B', row: { n: 3 }, position: 6 },
      { key: 'a', row: { n: 1 }, position: 4 },
      { key: 'b', row: { n: 2 }, position: 5 },
    ]);
  });

  it('ProjectionRows.dueBy: the rows due by an instant, earliest first and at most the limit, and when the next falls due, in one statement', async () => {
    await dataSource.query(
      `INSERT INTO projection_rows (projection, key, doc, position) VALUES
         ('due', 'a', '{"k":"a","at":"2026-01-01T00:00:03.000Z"}', 1),
         ('due', 'b', '{"k":"b","at":"2026-01-01T00:00:01.000Z"}', 2),
         ('due', 'c', '{"k":"c","at":"2026-01-01T00:00:02.000Z"}', 3),
         ('due', 'd', '{"k":"d","at":"2026-01-01T00:00:09.000Z"}', 4),
         ('due', 'e', '{"k":"e","at":"2026-01-01T00:00:05.000Z"}', 5)`,
    );
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    expect(await rows.dueBy('due', 'at', at(3), 10)).toEqual({
      rows: [
        { k: 'b', at: '2026-01-01T00:00:01.000Z' },
        { k: 'c', at: '2026-01-01T00:00:02.000Z' },
        { k: 'a', at: '2026-01-01T00:00:03.000Z' },
      ],
      next: at(5),
    });
    const limited = await rows.dueBy<{ k: string }>('due', 'at', at(3), 2);
    expect([limited.rows.map((r) => r.k), limited.next]).toEqual([['b', 'c'], at(5)]);
    expect(await rows.dueBy('due', 'at', at(0), 10)).toEqual({ rows: [], next: at(1) });
    const all = await rows.dueBy('due', 'at', at(10), 10);
    expect([all.rows.length, all.next]).toEqual([5, null]);
    expect(await rows.dueBy('due-none', 'at', at(10), 10)).toEqual({ rows: [], next: null });
  });
});

async function checkpoint(name: string): Promise<number> {
  const [row] = await dataSource.query(`SELECT position FROM checkpoints WHERE name = $1`, [name]);
  return Number(row.position);
}

async function retry<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // Connections killed on purpose come back on the next try.
    }
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
