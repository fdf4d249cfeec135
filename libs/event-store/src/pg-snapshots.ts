import type { DataSource } from 'typeorm';
import type { StreamEventQuery, StreamSnapshot } from './event-store.js';

/** Snapshots and history probes of PgEventStore (tables from migration StreamSnapshots1795712000000). */

export async function readPgSnapshot(
  dataSource: DataSource,
  streamId: string,
  schema: string,
): Promise<StreamSnapshot | null> {
  const rows: { version: number; state: unknown }[] = await dataSource.query(
    `SELECT version, state FROM stream_snapshots WHERE stream_id = $1 AND schema = $2`,
    [streamId, schema],
  );
  const row = rows[0];
  return row === undefined ? null : { streamId, schema, version: Number(row.version), state: row.state };
}

/** A snapshot at or past the saved one's version is kept: replicas may save concurrently, in any order. */
export async function savePgSnapshot(dataSource: DataSource, snapshot: StreamSnapshot): Promise<void> {
  await dataSource.query(
    `INSERT INTO stream_snapshots (stream_id, schema, version, state) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (stream_id) DO UPDATE
       SET schema = EXCLUDED.schema, version = EXCLUDED.version, state = EXCLUDED.state, saved_at = now()
       WHERE stream_snapshots.version < EXCLUDED.version OR stream_snapshots.schema <> EXCLUDED.schema`,
    [snapshot.streamId, snapshot.schema, snapshot.version, JSON.stringify(snapshot.state)],
  );
}

const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/**
 * The field and the types are written into the statement, not bound: Postgres uses a partial
 * expression index (events_grant_token_hash_idx) only when the predicate is constant. Both are
 * checked to be plain names first, so no input reaches the SQL text.
 */
export async function pgStreamHasEvent(
  dataSource: DataSource,
  streamId: string,
  query: StreamEventQuery,
): Promise<boolean> {
  if (!NAME.test(query.field) || query.types.length === 0 || !query.types.every((t) => NAME.test(t))) {
    throw new Error(`streamHasEvent: field and types must be plain names`);
  }
  const types = query.types.map((t) => `'${t}'`).join(', ');
  const rows: unknown[] = await dataSource.query(
    `SELECT 1 FROM events
     WHERE stream_id = $1 AND type IN (${types}) AND (data->>'${query.field}') = $2 LIMIT 1`,
    [streamId, query.equals],
  );
  return rows.length > 0;
}
