import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type DataSource } from 'typeorm';
import { createEventStoreDataSource, generateCheckpointKey, PgEventStore } from '#lib/event-store';
import { createTestDatabase, recomputeChain, runMigrations, type TestDatabase } from '#lib/testing';
import {
  auditVerify,
  auditWithCheckpoints,
  describeCheckpoints,
  writeCheckpointNow,
} from './audit.command.js';

/**
 * Issue 24's acceptance: an event rewritten and the whole chain recomputed in SQL passes
 * `audit verify` alone, and fails `audit verify --checkpoints`, which names the first rewritten position.
 */
describe('audit verify --checkpoints (a chain recomputed after a checkpoint)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let sql: pg.Client;
  let dir: string;
  let keyMaterial: string;
  const clock = () => new Date('2026-12-07T12:00:00.000Z');

  beforeAll(async () => {
    db = await createTestDatabase('audit_checkpoints');
    await runMigrations(db.url);
    ds = createEventStoreDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    dir = mkdtempSync(join(tmpdir(), 'audit-checkpoints-'));
    keyMaterial = JSON.stringify((await generateCheckpointKey()).privateJwk);
  });

  afterAll(async () => {
    await sql?.end();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CKPT-40 names the first rewritten position and event id; verify alone still passes', async () => {
    const store = new PgEventStore(ds);
    for (let i = 0; i < 8; i++) {
      await store.appendToStream(`client-${randomUUID()}`, 0, [{ type: 'ClientRegistered', data: { i } }]);
      if (i === 4) expect(await writeCheckpointNow(db.url, dir, keyMaterial, clock)).toHaveLength(1);
    }
    expect(await writeCheckpointNow(db.url, dir, keyMaterial, clock)).toHaveLength(1);
    const clean = await auditWithCheckpoints(db.url, { dir, keyMaterial });
    expect(clean.checkpoints).toMatchObject({ checked: 2, ok: 2, problems: [] });

    const { rows } = await sql.query('SELECT * FROM events ORDER BY global_position');
    const target = rows[2];
    await sql.query('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await sql.query(`UPDATE events SET data = '{"i":"rewritten"}' WHERE global_position = $1`, [
      target.global_position,
    ]);
    await recomputeChain(sql);

    expect(await auditVerify(db.url, () => undefined)).toBe(true);
    const { chain, checkpoints } = await auditWithCheckpoints(db.url, { dir, keyMaterial });
    expect(chain.break).toBeNull();
    expect(checkpoints!.firstRewritten).toEqual({
      position: Number(target.global_position),
      eventId: target.event_id,
    });
    expect(checkpoints!.checked).toBe(2);
    expect(checkpoints!.ok).toBe(0);
    expect(describeCheckpoints(checkpoints!, dir)).toContain(
      `first rewritten event: position ${target.global_position} (${target.event_id})`,
    );
    // The checkpointer sees it too, at its next pass, whether the head moved or not.
    await expect(writeCheckpointNow(db.url, dir, keyMaterial, clock)).rejects.toThrow(
      /does not continue from the last checkpoint: its live hash is not the one the last checkpoint signed/,
    );
  });
});
