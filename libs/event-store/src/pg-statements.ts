import { type EventMetadata, type RecordedEvent } from './event-store.js';
import { type PreparedStatement, preparedStatement } from './prepared.js';

/** SQL of PgEventStore: the statements of an append and of the reads, and the row they give back. */

/**
 * Key of the transaction-scoped advisory lock every append transaction takes before it writes.
 * Holding it from the first insert to COMMIT makes global positions grow in commit order across
 * processes (EventStore contract): nextval() runs only under the lock, and Postgres releases
 * transaction locks after the commit is visible.
 */
export const APPEND_LOCK_KEY = 4_201_779_230_000n;

/** An events row as the reads select it (EVENT_COLUMNS). */
export interface EventRow {
  global_position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
  prev_hash: string | null;
  hash: string | null;
}

export const EVENT_COLUMNS = `global_position, event_id, stream_id, stream_version, type, schema_version, data,
  metadata, recorded_at, encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash`;

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    globalPosition: Number(row.global_position),
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

// --- Appends -----------------------------------------------------------------------------------

export const INSERT_EVENTS = preparedStatement(
  'append-events',
  `INSERT INTO events (global_position, event_id, stream_id, stream_version, type, schema_version, data,
    metadata, recorded_at, prev_hash, hash)
  SELECT e.global_position, e.event_id, e.stream_id, e.stream_version, e.type, e.schema_version, e.data,
    e.metadata, $8::timestamptz, decode(e.prev_hash, 'hex'), decode(e.hash, 'hex')
  FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[],
    $9::bigint[], $10::text[], $11::text[])
    AS e(event_id, stream_id, stream_version, type, schema_version, data, metadata, global_position,
      prev_hash, hash)`,
);

/** Positions taken under the append lock, so they grow in commit order like bigserial defaults. */
export const NEXT_POSITIONS = preparedStatement(
  'append-positions',
  `SELECT nextval(pg_get_serial_sequence('events', 'global_position')) AS p FROM generate_series(1, $1)`,
);

/**
 * The append's transaction and its lock in one round trip, and plan_cache_mode=force_generic_plan
 * for the rest of the transaction: every statement of an append is one of this file's, planned once
 * per connection.
 */
export const BEGIN_AND_LOCK =
  `BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_KEY}), ` +
  `set_config('plan_cache_mode', 'force_generic_plan', true)`;

/**
 * The clock, the chain's tip, each stream's version (top of its index) and $2 global positions,
 * under the lock. Positions are taken for every event of the batch before its appends are checked:
 * those of an append refused by its version check stay unused, a gap like the one a rolled-back
 * transaction leaves (readers count stored events, never assume consecutive positions).
 */
export const CLOCK_TIP_VERSIONS = preparedStatement(
  'append-clock-tip-versions',
  `SELECT date_trunc('milliseconds', GREATEST(clock_timestamp(), last.recorded_at)) AS now,
     encode(last.hash, 'hex') AS hash,
     (SELECT coalesce(array_agg(nextval(pg_get_serial_sequence('events', 'global_position'))), '{}')
        FROM generate_series(1, $2::int)) AS positions,
     (SELECT coalesce(jsonb_object_agg(s.id, v.version), '{}'::jsonb)
        FROM unnest($1::text[]) AS s(id)
        CROSS JOIN LATERAL (SELECT stream_version AS version FROM events
          WHERE stream_id = s.id ORDER BY stream_version DESC LIMIT 1) AS v) AS versions
   FROM (SELECT 1) AS one
   LEFT JOIN (SELECT recorded_at, hash FROM events ORDER BY global_position DESC LIMIT 1) AS last ON true`,
);

/** The current version of stream $1 (0: no event). */
export const STREAM_VERSION = `SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1`;

/** Whether stream $1 holds version $2. */
export const VERSION_EXISTS = `SELECT 1 FROM events WHERE stream_id = $1 AND stream_version = $2`;

// --- Reads -------------------------------------------------------------------------------------

const readStreamStatements = new Map<string, PreparedStatement>();

/**
 * readStream's statement: $1 the stream, $2 the first version, then the decoy stream (`orElse`: one
 * statement either way, an index probe then the rows of whichever stream was chosen) and `upTo`.
 */
export function readStreamStatement(orElse: boolean, upTo: boolean): PreparedStatement {
  const name = `read-stream${orElse ? '-or-else' : ''}${upTo ? '-up-to' : ''}`;
  let statement = readStreamStatements.get(name);
  if (statement === undefined) {
    const stream = orElse
      ? `(SELECT CASE WHEN EXISTS (SELECT 1 FROM events WHERE stream_id = $1) THEN $1::text ELSE $3::text END)`
      : '$1';
    const until = upTo ? `AND recorded_at <= $${orElse ? 4 : 3}` : '';
    statement = preparedStatement(
      name,
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = ${stream} AND stream_version >= $2 ${until}
       ORDER BY stream_version`,
    );
    readStreamStatements.set(name, statement);
  }
  return statement;
}

/** A page of one stream's events. */
export const READ_STREAM_PAGE = preparedStatement(
  'read-stream-page',
  `SELECT ${EVENT_COLUMNS} FROM events
   WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3`,
);

/** The events of several streams (each from its version on), tagged with the read they answer. */
export const READ_STREAMS = preparedStatement(
  'read-streams',
  `SELECT r.i, e.* FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS r(stream_id, from_version, i)
   CROSS JOIN LATERAL (SELECT ${EVENT_COLUMNS} FROM events
     WHERE stream_id = r.stream_id AND stream_version >= r.from_version
     ORDER BY stream_version) AS e`,
);

/** Up to $2 events after global position $1. */
export const READ_ALL = `SELECT ${EVENT_COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2`;

/** Up to $4 events of the types $3 after global position $1, at or below the head $2. */
export const READ_ALL_OF_TYPES = `SELECT ${EVENT_COLUMNS} FROM events
       WHERE global_position > $1 AND global_position <= $2 AND type = ANY($3::text[])
       ORDER BY global_position LIMIT $4`;

export const HEAD_POSITION = `SELECT coalesce(max(global_position), 0) AS head FROM events`;

/**
 * The top version of each of the streams $1 that has an event: one backward step of the
 * (stream_id, stream_version) index per stream, whatever its length (a max() grouped over
 * `= ANY` would read every event of every stream named).
 */
export const STREAM_VERSIONS = `SELECT s.id AS stream_id, v.version FROM unnest($1::text[]) AS s(id)
       CROSS JOIN LATERAL (SELECT stream_version AS version FROM events
         WHERE stream_id = s.id ORDER BY stream_version DESC LIMIT 1) AS v`;
