import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { type DataSource } from 'typeorm';
import { createEventStoreDataSource, eventHash, PgEventStore } from '#lib/event-store';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { auditVerify } from './audit.command.js';

/** `npm run cli -- audit verify` against a log tampered with in SQL, as a superuser could. */
describe('audit verify (hash-chained event log)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let sql: pg.Client;
  let store: PgEventStore;

  const verify = async () => {
    const lines: string[] = [];
    const ok = await auditVerify(db.url, (l) => lines.push(l));
    return { ok, text: lines.join('\n') };
  };
  const positions = async (): Promise<number[]> =>
    (await sql.query('SELECT global_position FROM events ORDER BY global_position')).rows.map((r) =>
      Number(r.global_position),
    );

  beforeAll(async () => {
    db = await createTestDatabase('audit_verify');
    await runMigrations(db.url);
    ds = createEventStoreDataSource(db.url, { poolSize: 4 });
    await ds.initialize();
    store = new PgEventStore(ds, { maxBatchSize: 50 });
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    // Group commits, multi-event appends and a conflicting append (savepoint fallback is not needed
    // for the chain to hold, but conflicts are left out of a batch).
    const streams = Array.from({ length: 5 }, () => `token-${randomUUID()}`);
    await Promise.all(
      streams.map((s, i) => store.appendToStream(s, 0, [{ type: 'Issued', data: { i, scope: 'a b' } }])),
    );
    await Promise.allSettled([
      ...streams.map((s) =>
        store.appendToStream(s, 1, [
          { type: 'Used', data: { z: 1, a: [1, { y: 2, b: 'é' }] }, metadata: { actor: 'client:x' } },
          { type: 'Revoked', data: { at: '2026-01-01T00:00:00Z' } },
        ]),
      ),
      store.appendToStream(streams[0]!, 1, [{ type: 'Loser', data: {} }]),
    ]);
    // A position the sequence handed out and no event kept (a rolled-back append leaves the same gap).
    await sql.query(`SELECT nextval(pg_get_serial_sequence('events', 'global_position'))`);
    await store.appendToStream(`client-${randomUUID()}`, 0, [{ type: 'ClientRegistered', data: { n: 1 } }]);
    await store.appendToStream(`client-${randomUUID()}`, 0, [{ type: 'ClientRegistered', data: { n: 2 } }]);
    await sql.query('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
  });

  afterAll(async () => {
    await sql?.end();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('finds the chain intact over group commits and position gaps, and stores every link', async () => {
    const all = await positions();
    expect(all).toHaveLength(17);
    const { ok, text } = await verify();
    expect(ok).toBe(true);
    expect(text).toContain('chain intact: 17 event(s) checked');
    const { rows } = await sql.query(
      `SELECT count(*)::int AS n FROM events e
       WHERE e.prev_hash IS DISTINCT FROM (SELECT p.hash FROM events p
         WHERE p.global_position < e.global_position ORDER BY p.global_position DESC LIMIT 1)
         AND e.global_position <> (SELECT min(global_position) FROM events)`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('names an event edited by hand, and holds again once the edit is undone', async () => {
    const target = (await positions())[6]!;
    const before = (await sql.query('SELECT data FROM events WHERE global_position = $1', [target])).rows[0];
    await sql.query(`UPDATE events SET data = jsonb_set(data, '{z}', '2') WHERE global_position = $1`, [
      target,
    ]);
    let result = await verify();
    expect(result.ok).toBe(false);
    expect(result.text).toContain(`first bad event: position ${target} (altered)`);
    await sql.query('UPDATE events SET data = $2 WHERE global_position = $1', [target, before.data]);
    result = await verify();
    expect(result.ok).toBe(true);
  });

  it('names where an event was deleted, through the chain (not the position gaps)', async () => {
    const all = await positions();
    const victim = all[9]!;
    const [row] = (await sql.query('SELECT * FROM events WHERE global_position = $1', [victim])).rows;
    await sql.query('DELETE FROM events WHERE global_position = $1', [victim]);
    let result = await verify();
    expect(result.ok).toBe(false);
    expect(result.text).toContain(`first bad event: position ${all[10]} (removed)`);
    expect(result.text).toContain(`removed after position ${all[8]} before position ${all[10]}`);
    await sql.query(`INSERT INTO events SELECT * FROM jsonb_populate_record(null::events, $1::jsonb)`, [
      JSON.stringify({
        ...row,
        prev_hash: `\\x${row.prev_hash.toString('hex')}`,
        hash: `\\x${row.hash.toString('hex')}`,
      }),
    ]);
    result = await verify();
    expect(result.ok).toBe(true);
  });

  it('names an event inserted into a position gap, even one whose hash continues from its predecessor', async () => {
    const all = await positions();
    const gap = all.findIndex((p, i) => i > 0 && p !== all[i - 1]! + 1);
    expect(gap).toBeGreaterThan(0);
    const before = all[gap - 1]!;
    const forged = before + 1;
    const [prev] = (
      await sql.query(
        `SELECT encode(hash, 'hex') AS hash, recorded_at FROM events WHERE global_position = $1`,
        [before],
      )
    ).rows;
    const event = {
      globalPosition: forged,
      eventId: randomUUID(),
      streamId: `token-${randomUUID()}`,
      streamVersion: 1,
      type: 'AccessTokenRevoked',
      schemaVersion: 1,
      data: { forged: true },
      metadata: {},
      recordedAt: new Date(prev.recorded_at),
    };
    const hash = eventHash(prev.hash, event);
    await sql.query(
      `INSERT INTO events (global_position, event_id, stream_id, stream_version, type, schema_version, data,
         metadata, recorded_at, prev_hash, hash)
       VALUES ($1, $2, $3, 1, $4, 1, $5, '{}', $6, decode($7, 'hex'), decode($8, 'hex'))`,
      [forged, event.eventId, event.streamId, event.type, event.data, event.recordedAt, prev.hash, hash],
    );
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.text).toContain(`first bad event: position ${forged} (inserted)`);
    expect(result.text).toContain(`links back to ${before}`);
  });
});
