import { timeOrderedId } from './time-ordered-id.js';
import { type DataSource, type QueryRunner } from 'typeorm';
import {
  ExpectedVersionConflict,
  type AppendManyOptions,
  type AppendRequest,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamEventQuery,
  type StreamExpectation,
  type StreamSnapshot,
  type TypedPage,
} from './event-store.js';
import { eventHash, GENESIS_HASH } from './hash-chain.js';
import { prepareAppend, prepareExpectations, type PreparedAppend } from './prepare-append.js';
import { type PreparedStatement, preparedStatement, queryPrepared } from './prepared.js';
import { pgStreamHasEvent, readPgSnapshot, savePgSnapshot } from './pg-snapshots.js';
import { ReadsPerTurn } from './reads-per-turn.js';

/**
 * Key of the transaction-scoped advisory lock every append transaction takes before it writes.
 * Holding it from the first insert to COMMIT makes global positions grow in commit order across
 * processes (EventStore contract): nextval() runs only under the lock, and Postgres releases
 * transaction locks after the commit is visible.
 */
export const APPEND_LOCK_KEY = 4_201_779_230_000n;

export interface PgEventStoreOptions {
  /** Most appends written in one transaction (default 500). */
  maxBatchSize?: number;
}

export interface GroupCommitStats {
  /** Append transactions committed. */
  batchesCommitted: number;
  /** appendToStream / appendMany calls settled by those transactions, conflicts included. */
  appendsCommitted: number;
  lastBatchAppends: number;
  averageBatchAppends: number;
  /** Batches whose single insert failed and that were redone one append per savepoint. */
  fallbackBatches: number;
}

interface Job {
  appends: PreparedAppend[];
  /** appendMany's preconditions, checked before the job's own appends. */
  expect: StreamExpectation[];
  resolve(results: AppendResult[]): void;
  reject(err: unknown): void;
}

type Outcome = AppendResult[] | Error;

interface EventRow {
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

interface NewRow {
  eventId: string;
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
  dataJson: string;
  metadataJson: string;
}

/** The insert of a whole batch failed; the transaction is rolled back and nothing was written. */
class BatchInsertFailed extends Error {
  constructor(cause: unknown) {
    super('batch insert failed', { cause });
  }
}

const EVENT_COLUMNS = `global_position, event_id, stream_id, stream_version, type, schema_version, data,
  metadata, recorded_at, encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash`;

const INSERT_EVENTS = preparedStatement(
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
const NEXT_POSITIONS = preparedStatement(
  'append-positions',
  `SELECT nextval(pg_get_serial_sequence('events', 'global_position')) AS p FROM generate_series(1, $1)`,
);

/**
 * The append's transaction and its lock in one round trip, and plan_cache_mode=force_generic_plan
 * for the rest of the transaction: every statement of an append is one of this file's, planned once
 * per connection.
 */
const BEGIN_AND_LOCK =
  `BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_KEY}), ` +
  `set_config('plan_cache_mode', 'force_generic_plan', true)`;

/**
 * The clock, the chain's tip, each stream's version (top of its index) and $2 global positions,
 * under the lock. Positions are taken for every event of the batch before its appends are checked:
 * those of an append refused by its version check stay unused, a gap like the one a rolled-back
 * transaction leaves (readers count stored events, never assume consecutive positions).
 */
const CLOCK_TIP_VERSIONS = preparedStatement(
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

const readStreamStatements = new Map<string, PreparedStatement>();

/**
 * readStream's statement: $1 the stream, $2 the first version, then the decoy stream (`orElse`: one
 * statement either way, an index probe then the rows of whichever stream was chosen) and `upTo`.
 */
function readStreamStatement(orElse: boolean, upTo: boolean): PreparedStatement {
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

interface StreamRead {
  streamId: string;
  fromVersion: number;
}

/** A page of one stream's events. */
const READ_STREAM_PAGE = preparedStatement(
  'read-stream-page',
  `SELECT ${EVENT_COLUMNS} FROM events
   WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3`,
);

/** The events of several streams (each from its version on), tagged with the read they answer. */
const READ_STREAMS = preparedStatement(
  'read-streams',
  `SELECT r.i, e.* FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS r(stream_id, from_version, i)
   CROSS JOIN LATERAL (SELECT ${EVENT_COLUMNS} FROM events
     WHERE stream_id = r.stream_id AND stream_version >= r.from_version
     ORDER BY stream_version) AS e`,
);

/** The hash-chain tip of an append transaction: the hash of the last event written so far. */
interface Tip {
  hash: string;
}

/**
 * The EventStore on Postgres through a TypeORM DataSource (raw SQL, schema from migrations only).
 *
 * Group commit: concurrent appends queue while a transaction is in flight, then up to
 * `maxBatchSize` of them are written in one transaction (one WAL flush for all). Each append still
 * succeeds or fails on its own, and its promise settles only after COMMIT:
 * - under APPEND_LOCK_KEY, one query reads the current version of every stream in the batch (the
 *   streams of `expect` preconditions too) and the appends are checked in queue order (a later
 *   append to the same stream sees the earlier one); conflicting appends are left out and the rest
 *   go in one INSERT;
 * - unique (stream_id, stream_version) stays the arbiter: if that INSERT fails on a constraint or
 *   a data error (a writer that bypassed the lock), the batch is rolled back and redone with each
 *   append in its own SAVEPOINT, where 23505 becomes ExpectedVersionConflict for that append only.
 * Hash chain (hash-chain.ts): under the same lock the transaction reads the hash of the last event,
 * takes the batch's global positions from the sequence, and writes each event with prev_hash and hash,
 * so the chain follows global order across processes; a savepoint rolled back leaves the chain's tip
 * where it was (its positions become gaps, which the chain does not depend on).
 * A failed transaction (connection lost, Postgres down) rejects every append in the batch with its
 * error. When it is the COMMIT that failed the outcome is unknown: retrying with the same numeric
 * expected version is safe (it conflicts if the first try committed); retrying an 'any' append is not.
 */
export class PgEventStore implements EventStore {
  private readonly maxBatchSize: number;
  private queue: Job[] = [];
  /** At most 256 streams in one statement; more waiting make several. */
  private readonly streamReads = new ReadsPerTurn<StreamRead, RecordedEvent[]>(256, (reads) =>
    this.readStreams(reads),
  );
  private flushing: Promise<void> | null = null;
  private readonly counters = { batches: 0, appends: 0, last: 0, fallbacks: 0 };

  constructor(
    private readonly dataSource: DataSource,
    options: PgEventStoreOptions = {},
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 500);
  }

  async appendToStream(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
  ): Promise<AppendResult> {
    const [result] = await this.enqueue([prepareAppend(streamId, expectedVersion, events)], []);
    return result!;
  }

  async appendMany(requests: AppendRequest[], options: AppendManyOptions = {}): Promise<AppendResult[]> {
    const appends = requests.map((r) => prepareAppend(r.streamId, r.expectedVersion, r.events));
    const expect = prepareExpectations(options.expect);
    if (appends.length === 0) return [];
    return this.enqueue(appends, expect);
  }

  /**
   * Plain reads (no `orElse`, no `upTo`) asked for in the same turn of the event loop go to Postgres
   * as one statement (ReadsPerTurn); each is still a read made after it was asked for (an append that
   * resolved before it is in it). A read alone, and every other variant, is its own statement.
   */
  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    if (options.limit !== undefined && options.orElse === undefined && options.upTo === undefined) {
      const rows = await queryPrepared<EventRow>(this.dataSource, READ_STREAM_PAGE, [
        streamId,
        options.fromVersion ?? 1,
        options.limit,
      ]);
      return rows.map(toRecordedEvent);
    }
    if (options.orElse === undefined && options.upTo === undefined) {
      return this.streamReads.ask({ streamId, fromVersion: options.fromVersion ?? 1 });
    }
    return this.readStreamAlone(streamId, options);
  }

  private async readStreams(reads: StreamRead[]): Promise<RecordedEvent[][]> {
    if (reads.length === 1) return [await this.readStreamAlone(reads[0]!.streamId, reads[0]!)];
    const rows = await queryPrepared<EventRow & { i: string }>(this.dataSource, READ_STREAMS, [
      reads.map((r) => r.streamId),
      reads.map((r) => r.fromVersion),
    ]);
    const byRead = reads.map(() => [] as RecordedEvent[]);
    for (const row of rows) byRead[Number(row.i) - 1]!.push(toRecordedEvent(row));
    return byRead.map((events) => events.sort((a, b) => a.streamVersion - b.streamVersion));
  }

  private async readStreamAlone(streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const params: unknown[] = [streamId, options.fromVersion ?? 1];
    if (options.orElse !== undefined) params.push(options.orElse);
    if (options.upTo !== undefined) params.push(options.upTo);
    const statement = readStreamStatement(options.orElse !== undefined, options.upTo !== undefined);
    const rows = await queryPrepared<EventRow>(this.dataSource, statement, params);
    return rows.map(toRecordedEvent);
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
      [after, limit],
    );
    return rows.map(toRecordedEvent);
  }

  async readAllOfTypes(after: number, limit: number, types: readonly string[]): Promise<TypedPage> {
    // Positions grow in commit order (APPEND_LOCK_KEY): every event at or below the head read
    // first is committed and visible to the next statement.
    const head = await this.headPosition();
    if (head <= after) return { events: [], through: after };
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE global_position > $1 AND global_position <= $2 AND type = ANY($3::text[])
       ORDER BY global_position LIMIT $4`,
      [after, head, types, limit],
    );
    const events = rows.map(toRecordedEvent);
    return { events, through: events.length === limit ? events[events.length - 1]!.globalPosition : head };
  }

  async headPosition(): Promise<number> {
    const [row] = await this.dataSource.query(`SELECT coalesce(max(global_position), 0) AS head FROM events`);
    return Number((row as { head: string }).head);
  }

  async streamVersions(streamIds: readonly string[]): Promise<Map<string, number>> {
    const versions = new Map(streamIds.map((id) => [id, 0]));
    if (versions.size === 0) return versions;
    const rows: { stream_id: string; version: number }[] = await this.dataSource.query(
      `SELECT stream_id, max(stream_version) AS version FROM events
       WHERE stream_id = ANY($1::text[]) GROUP BY stream_id`,
      [[...versions.keys()]],
    );
    for (const r of rows) versions.set(r.stream_id, r.version);
    return versions;
  }

  readSnapshot(streamId: string, schema: string): Promise<StreamSnapshot | null> {
    return readPgSnapshot(this.dataSource, streamId, schema);
  }

  saveSnapshot(snapshot: StreamSnapshot): Promise<void> {
    return savePgSnapshot(this.dataSource, snapshot);
  }

  streamHasEvent(streamId: string, query: StreamEventQuery): Promise<boolean> {
    return pgStreamHasEvent(this.dataSource, streamId, query);
  }

  stats(): GroupCommitStats {
    const { batches, appends, last, fallbacks } = this.counters;
    return {
      batchesCommitted: batches,
      appendsCommitted: appends,
      lastBatchAppends: last,
      averageBatchAppends: batches === 0 ? 0 : appends / batches,
      fallbackBatches: fallbacks,
    };
  }

  /** Resolves once every append queued so far has settled (for an orderly shutdown). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private enqueue(appends: PreparedAppend[], expect: StreamExpectation[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ appends, expect, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Lets every append issued in the same tick join the first batch.
    await Promise.resolve();
    try {
      while (this.queue.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.flushing = null;
    }
  }

  private takeBatch(): Job[] {
    let appends = 0;
    let n = 0;
    while (
      n < this.queue.length &&
      (n === 0 || appends + this.queue[n]!.appends.length <= this.maxBatchSize)
    ) {
      appends += this.queue[n]!.appends.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Settles every job of the batch; never throws. */
  private async writeBatch(jobs: Job[]): Promise<void> {
    let outcomes: Map<Job, Outcome>;
    try {
      try {
        outcomes = await this.transaction((qr) => this.writeInOneInsert(qr, jobs));
      } catch (err) {
        if (!(err instanceof BatchInsertFailed && isConstraintOrDataError(err.cause))) throw err;
        outcomes = await this.transaction((qr) => this.writeEachInSavepoint(qr, jobs));
        this.counters.fallbacks++;
      }
    } catch (err) {
      for (const job of jobs) job.reject(err instanceof BatchInsertFailed ? err.cause : err);
      return;
    }
    this.counters.batches++;
    this.counters.appends += jobs.length;
    this.counters.last = jobs.length;
    for (const job of jobs) {
      const outcome = outcomes.get(job)!;
      if (outcome instanceof Error) job.reject(outcome);
      else job.resolve(outcome);
    }
  }

  /** One transaction under the append lock: BEGIN and the lock are one round trip. */
  private async transaction<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    try {
      const client = (await qr.connect()) as { query(text: string): Promise<unknown> };
      try {
        await client.query(BEGIN_AND_LOCK);
        const result = await work(qr);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await qr.release();
    }
  }

  /**
   * The recorded_at of this transaction's events: taken under the lock and never before the last
   * recorded event, so recorded_at is monotonic along global positions and `upTo` cuts every stream
   * at a prefix. Millisecond precision, so that a RecordedEvent's recordedAt used as `upTo` includes
   * that event.
   */
  private async lockedNow(
    qr: QueryRunner,
    streamIds: readonly string[] = [],
    positionsWanted = 0,
  ): Promise<{ now: Date; tip: Tip; versions: Map<string, number>; positions: number[] }> {
    const [row] = await queryPrepared(qr, CLOCK_TIP_VERSIONS, [streamIds, positionsWanted]);
    const { now, hash, versions, positions } = row as {
      now: Date;
      hash: string | null;
      versions: Record<string, number>;
      positions: string[];
    };
    return {
      now,
      tip: { hash: hash ?? GENESIS_HASH },
      versions: new Map(Object.entries(versions)),
      positions: positions.map(Number).sort((a, b) => a - b),
    };
  }

  private async writeInOneInsert(qr: QueryRunner, jobs: Job[]): Promise<Map<Job, Outcome>> {
    const streamIds = [
      ...new Set(
        jobs.flatMap((j) => [...j.appends.map((a) => a.streamId), ...j.expect.map((x) => x.streamId)]),
      ),
    ];
    const candidates = jobs.reduce((n, j) => n + j.appends.reduce((m, a) => m + a.events.length, 0), 0);
    const { now, tip, versions, positions: taken } = await this.lockedNow(qr, streamIds, candidates);
    const planned = new Map<Job, NewRow[][] | Error>();
    const rows: NewRow[] = [];
    for (const job of jobs) {
      const tentative = new Map<string, number>();
      const jobRows: NewRow[][] = [];
      let conflict = unmet(job.expect, (id) => versions.get(id) ?? 0);
      for (const append of conflict ? [] : job.appends) {
        const current = tentative.get(append.streamId) ?? versions.get(append.streamId) ?? 0;
        if (append.expectedVersion !== 'any' && append.expectedVersion !== current) {
          conflict = new ExpectedVersionConflict(append.streamId, append.expectedVersion, current);
          break;
        }
        jobRows.push(newRows(append, current));
        tentative.set(append.streamId, current + append.events.length);
      }
      if (conflict) {
        planned.set(job, conflict);
        continue;
      }
      for (const [streamId, version] of tentative) versions.set(streamId, version);
      planned.set(job, jobRows);
      rows.push(...jobRows.flat());
    }
    let positions = new Map<string, Inserted>();
    if (rows.length > 0) {
      try {
        positions = await insertRows(qr, rows, now, tip, taken);
      } catch (err) {
        throw new BatchInsertFailed(err);
      }
    }
    const outcomes = new Map<Job, Outcome>();
    for (const [job, plan] of planned) {
      outcomes.set(job, plan instanceof Error ? plan : plan.map((r) => toAppendResult(r, positions, now)));
    }
    return outcomes;
  }

  private async writeEachInSavepoint(qr: QueryRunner, jobs: Job[]): Promise<Map<Job, Outcome>> {
    const { now, tip } = await this.lockedNow(qr);
    const outcomes = new Map<Job, Outcome>();
    for (const job of jobs) {
      const versions = new Map<string, number>();
      for (const x of job.expect) versions.set(x.streamId, await streamVersion(qr, x.streamId));
      const conflict = unmet(job.expect, (id) => versions.get(id)!);
      if (conflict) {
        outcomes.set(job, conflict);
        continue;
      }
      await qr.query('SAVEPOINT append');
      let append = job.appends[0]!;
      const jobTip = { ...tip };
      try {
        const results: AppendResult[] = [];
        for (append of job.appends) results.push(await this.writeOne(qr, append, now, jobTip));
        await qr.query('RELEASE SAVEPOINT append');
        tip.hash = jobTip.hash;
        outcomes.set(job, results);
      } catch (err) {
        await qr.query('ROLLBACK TO SAVEPOINT append');
        const conflict = err instanceof ExpectedVersionConflict || isVersionTaken(err);
        outcomes.set(
          job,
          conflict
            ? new ExpectedVersionConflict(
                append.streamId,
                append.expectedVersion,
                await streamVersion(qr, append.streamId),
              )
            : toError(err),
        );
      }
    }
    return outcomes;
  }

  private async writeOne(
    qr: QueryRunner,
    append: PreparedAppend,
    now: Date,
    tip: Tip,
  ): Promise<AppendResult> {
    const { streamId, expectedVersion } = append;
    let current: number;
    if (expectedVersion === 'any') {
      current = await streamVersion(qr, streamId);
    } else {
      current = expectedVersion;
      if (expectedVersion > 0) {
        const exists = await qr.query(`SELECT 1 FROM events WHERE stream_id = $1 AND stream_version = $2`, [
          streamId,
          expectedVersion,
        ]);
        if (exists.length === 0) throw new ExpectedVersionConflict(streamId, expectedVersion);
      }
    }
    const rows = newRows(append, current);
    return toAppendResult(rows, await insertRows(qr, rows, now, tip), now);
  }
}

/** The first precondition the streams' current versions do not meet, as a conflict on that stream. */
function unmet(
  expect: StreamExpectation[],
  current: (streamId: string) => number,
): ExpectedVersionConflict | null {
  for (const x of expect) {
    const version = current(x.streamId);
    if (version !== x.version) return new ExpectedVersionConflict(x.streamId, x.version, version);
  }
  return null;
}

function newRows(append: PreparedAppend, current: number): NewRow[] {
  return append.events.map((e, i) => ({
    eventId: timeOrderedId(),
    streamId: append.streamId,
    streamVersion: current + 1 + i,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: e.data,
    metadata: e.metadata,
    dataJson: e.dataJson,
    metadataJson: e.metadataJson,
  }));
}

interface Inserted {
  position: number;
  prevHash: string;
  hash: string;
}

/**
 * Writes the rows in order, chained from `tip` (moved to the last row's hash), at the positions
 * `taken` (in order) or at newly taken ones. Position and hashes of each inserted event, by event id.
 */
async function insertRows(
  qr: QueryRunner,
  rows: NewRow[],
  now: Date,
  tip: Tip,
  taken?: readonly number[],
): Promise<Map<string, Inserted>> {
  const positions =
    taken ??
    (await queryPrepared<{ p: string }>(qr, NEXT_POSITIONS, [rows.length]))
      .map((r) => Number(r.p))
      .sort((a, b) => a - b);
  const inserted = new Map<string, Inserted>();
  let prevHash = tip.hash;
  rows.forEach((r, i) => {
    const position = positions[i]!;
    const hash = eventHash(prevHash, {
      eventId: r.eventId,
      globalPosition: position,
      streamId: r.streamId,
      streamVersion: r.streamVersion,
      type: r.type,
      schemaVersion: r.schemaVersion,
      data: r.data,
      metadata: r.metadata,
      recordedAt: now,
    });
    inserted.set(r.eventId, { position, prevHash, hash });
    prevHash = hash;
  });
  await queryPrepared(qr, INSERT_EVENTS, [
    rows.map((r) => r.eventId),
    rows.map((r) => r.streamId),
    rows.map((r) => r.streamVersion),
    rows.map((r) => r.type),
    rows.map((r) => r.schemaVersion),
    rows.map((r) => r.dataJson),
    rows.map((r) => r.metadataJson),
    now,
    rows.map((r) => inserted.get(r.eventId)!.position),
    rows.map((r) => inserted.get(r.eventId)!.prevHash),
    rows.map((r) => inserted.get(r.eventId)!.hash),
  ]);
  tip.hash = prevHash;
  return inserted;
}

async function streamVersion(qr: QueryRunner, streamId: string): Promise<number> {
  const [row] = await qr.query(
    `SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1`,
    [streamId],
  );
  return (row as { version: number }).version;
}

function toAppendResult(rows: NewRow[], inserted: Map<string, Inserted>, recordedAt: Date): AppendResult {
  const events = rows.map((r): RecordedEvent => ({
    eventId: r.eventId,
    globalPosition: inserted.get(r.eventId)!.position,
    streamId: r.streamId,
    streamVersion: r.streamVersion,
    type: r.type,
    schemaVersion: r.schemaVersion,
    data: r.data,
    metadata: r.metadata,
    recordedAt: new Date(recordedAt),
    prevHash: inserted.get(r.eventId)!.prevHash,
    hash: inserted.get(r.eventId)!.hash,
  }));
  const last = events[events.length - 1]!;
  return {
    streamId: last.streamId,
    nextExpectedVersion: last.streamVersion,
    lastGlobalPosition: last.globalPosition,
    events,
  };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
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

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLSTATE class 22 (data exception) or 23 (integrity constraint violation). */
function isConstraintOrDataError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

function isVersionTaken(err: unknown): boolean {
  return (
    sqlState(err) === '23505' && (err as { constraint?: unknown }).constraint === 'events_stream_version_key'
  );
}
