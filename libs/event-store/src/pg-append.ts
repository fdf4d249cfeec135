import { type DataSource, type QueryRunner } from 'typeorm';
import {
  ExpectedVersionConflict,
  type AppendResult,
  type EventMetadata,
  type RecordedEvent,
  type StreamExpectation,
} from './event-store.js';
import { type AppendJob, type AppendOutcome, type BatchWritten } from './group-commit.js';
import { eventHash, GENESIS_HASH } from './hash-chain.js';
import { type PreparedAppend } from './prepare-append.js';
import { queryPrepared } from './prepared.js';
import {
  BEGIN_AND_LOCK,
  CLOCK_TIP_VERSIONS,
  INSERT_EVENTS,
  NEXT_POSITIONS,
  STREAM_VERSION,
  VERSION_EXISTS,
} from './pg-statements.js';
import { timeOrderedId } from './time-ordered-id.js';

/**
 * The append transaction of PgEventStore: one batch of jobs under APPEND_LOCK_KEY.
 * - One query reads the clock, the chain's tip, the current version of every stream in the batch
 *   (the streams of `expect` preconditions too) and the batch's global positions; the appends are
 *   checked in queue order (a later append to the same stream sees the earlier one); conflicting
 *   appends are left out and the rest go in one INSERT.
 * - unique (stream_id, stream_version) stays the arbiter: if that INSERT fails on a constraint or
 *   a data error (a writer that bypassed the lock), the batch is rolled back and redone with each
 *   append in its own SAVEPOINT, where 23505 becomes ExpectedVersionConflict for that append only.
 * - Hash chain (hash-chain.ts): each event is written with prev_hash and hash, chained from the
 *   tip read under the lock, so the chain follows global order across processes; a savepoint rolled
 *   back leaves the chain's tip where it was (its positions become gaps, which the chain does not
 *   depend on).
 */
export async function writeAppendBatch(dataSource: DataSource, jobs: AppendJob[]): Promise<BatchWritten> {
  try {
    const outcomes = await transaction(dataSource, (qr) => writeInOneInsert(qr, jobs));
    return { outcomes, fellBack: false };
  } catch (err) {
    if (!(err instanceof BatchInsertFailed)) throw err;
    if (!isConstraintOrDataError(err.cause)) throw err.cause;
  }
  const outcomes = await transaction(dataSource, (qr) => writeEachInSavepoint(qr, jobs));
  return { outcomes, fellBack: true };
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

/** Position and hashes of an inserted event. */
interface Inserted {
  position: number;
  prevHash: string;
  hash: string;
}

/** The hash-chain tip of an append transaction: the hash of the last event written so far. */
interface Tip {
  hash: string;
}

/** What the transaction read under the lock. */
interface Locked {
  now: Date;
  tip: Tip;
  versions: Map<string, number>;
  positions: number[];
}

/** The insert of a whole batch failed; the transaction is rolled back and nothing was written. */
class BatchInsertFailed extends Error {
  constructor(cause: unknown) {
    super('batch insert failed', { cause });
  }
}

/** One transaction under the append lock: BEGIN and the lock are one round trip. */
async function transaction<T>(dataSource: DataSource, work: (qr: QueryRunner) => Promise<T>): Promise<T> {
  const qr = dataSource.createQueryRunner();
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
async function lockedNow(
  qr: QueryRunner,
  streamIds: readonly string[] = [],
  positionsWanted = 0,
): Promise<Locked> {
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

async function writeInOneInsert(qr: QueryRunner, jobs: AppendJob[]): Promise<Map<AppendJob, AppendOutcome>> {
  const streamIds = [
    ...new Set(
      jobs.flatMap((j) => [...j.appends.map((a) => a.streamId), ...j.expect.map((x) => x.streamId)]),
    ),
  ];
  const candidates = jobs.reduce((n, j) => n + j.appends.reduce((m, a) => m + a.events.length, 0), 0);
  const { now, tip, versions, positions: taken } = await lockedNow(qr, streamIds, candidates);
  const planned = new Map(jobs.map((job) => [job, planJob(job, versions)]));
  const rows = [...planned.values()].flatMap((plan) => (plan instanceof Error ? [] : plan.flat()));
  let positions = new Map<string, Inserted>();
  if (rows.length > 0) {
    try {
      positions = await insertRows(qr, rows, now, tip, taken);
    } catch (err) {
      throw new BatchInsertFailed(err);
    }
  }
  const outcomes = new Map<AppendJob, AppendOutcome>();
  for (const [job, plan] of planned) {
    outcomes.set(job, plan instanceof Error ? plan : plan.map((r) => toAppendResult(r, positions, now)));
  }
  return outcomes;
}

/**
 * The rows of each of the job's appends, checked against `versions` (the streams' versions after
 * the jobs before it), or the job's conflict. A job that passes moves `versions` past its appends.
 */
function planJob(job: AppendJob, versions: Map<string, number>): NewRow[][] | ExpectedVersionConflict {
  const tentative = new Map<string, number>();
  const jobRows: NewRow[][] = [];
  const conflict = unmet(job.expect, (id) => versions.get(id) ?? 0);
  if (conflict) return conflict;
  for (const append of job.appends) {
    const current = tentative.get(append.streamId) ?? versions.get(append.streamId) ?? 0;
    if (append.expectedVersion !== 'any' && append.expectedVersion !== current) {
      return new ExpectedVersionConflict(append.streamId, append.expectedVersion, current);
    }
    jobRows.push(newRows(append, current));
    tentative.set(append.streamId, current + append.events.length);
  }
  for (const [streamId, version] of tentative) versions.set(streamId, version);
  return jobRows;
}

async function writeEachInSavepoint(
  qr: QueryRunner,
  jobs: AppendJob[],
): Promise<Map<AppendJob, AppendOutcome>> {
  const { now, tip } = await lockedNow(qr);
  const outcomes = new Map<AppendJob, AppendOutcome>();
  for (const job of jobs) {
    const versions = new Map<string, number>();
    for (const x of job.expect) versions.set(x.streamId, await streamVersion(qr, x.streamId));
    const conflict = unmet(job.expect, (id) => versions.get(id)!);
    outcomes.set(job, conflict ?? (await writeJobInSavepoint(qr, job, now, tip)));
  }
  return outcomes;
}

/** The job's appends in one savepoint: all of them, or (rolled back) the first one's failure. */
async function writeJobInSavepoint(
  qr: QueryRunner,
  job: AppendJob,
  now: Date,
  tip: Tip,
): Promise<AppendOutcome> {
  await qr.query('SAVEPOINT append');
  let append = job.appends[0]!;
  const jobTip = { ...tip };
  try {
    const results: AppendResult[] = [];
    for (append of job.appends) results.push(await writeOne(qr, append, now, jobTip));
    await qr.query('RELEASE SAVEPOINT append');
    tip.hash = jobTip.hash;
    return results;
  } catch (err) {
    await qr.query('ROLLBACK TO SAVEPOINT append');
    const conflict = err instanceof ExpectedVersionConflict || isVersionTaken(err);
    return conflict
      ? new ExpectedVersionConflict(
          append.streamId,
          append.expectedVersion,
          await streamVersion(qr, append.streamId),
        )
      : toError(err);
  }
}

async function writeOne(qr: QueryRunner, append: PreparedAppend, now: Date, tip: Tip): Promise<AppendResult> {
  const { streamId, expectedVersion } = append;
  let current: number;
  if (expectedVersion === 'any') {
    current = await streamVersion(qr, streamId);
  } else {
    current = expectedVersion;
    if (expectedVersion > 0) {
      const exists = await qr.query(VERSION_EXISTS, [streamId, expectedVersion]);
      if (exists.length === 0) throw new ExpectedVersionConflict(streamId, expectedVersion);
    }
  }
  const rows = newRows(append, current);
  return toAppendResult(rows, await insertRows(qr, rows, now, tip), now);
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
  const [row] = await qr.query(STREAM_VERSION, [streamId]);
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
