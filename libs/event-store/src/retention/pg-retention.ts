import { type JWK } from 'jose';
import { type DataSource } from 'typeorm';
import { type EventStore, type RecordedEvent } from '../event-store.js';
import { timeOrderedId } from '../time-ordered-id.js';
import { inTransaction } from '../transaction.js';
import {
  type ArchiveManifest,
  ArchiveError,
  archiveFileName,
  buildManifest,
  encodeArchive,
  publicJwk,
  signManifest,
} from './archive-format.js';
import { checkArchiveChecksum, readManifest, readVerifiedArchive, writeArchive } from './archive-files.js';
import { candidatePage, saveScanCursor, scanBounds, scanCursor } from './candidate-scan.js';
import { Pacer, sleep } from './pacing.js';
import { type StreamsArchived } from './retention-events.js';
import { isArchivable, latestArchivableStart, RETENTION_PREFIXES, type RetentionPolicy } from './policy.js';

/** Stream ids a report lists at most (a run may archive millions). */
export const STREAMS_LISTED = 1000;

/** The stream recording every archive run and restore. */
export const RETENTION_STREAM = 'retention';

/** Key of the session advisory lock a retention run or restore holds: one at a time. */
export const RETENTION_LOCK_KEY = 4_201_779_230_002n;

/** Runs `work` holding the retention lock on a connection of its own; refused when another holds it. */
export async function withRetentionLock<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const qr = dataSource.createQueryRunner();
  await qr.connect();
  try {
    const [{ locked }] = (await qr.query('SELECT pg_try_advisory_lock($1) AS locked', [
      RETENTION_LOCK_KEY.toString(),
    ])) as { locked: boolean }[];
    if (!locked) throw new Error('another retention run or restore is in progress');
    try {
      return await work();
    } finally {
      await qr.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY.toString()]);
    }
  } finally {
    await qr.release();
  }
}

export interface RetentionOptions {
  /** Where archives are written and read (RETENTION_ARCHIVE_DIR). */
  archiveDir: string;
  /** Private Ed25519 JWK signing the manifests (RETENTION_SIGNING_KEY). */
  signingKey: JWK;
  policy: RetentionPolicy;
  clock?: () => number;
  newArchiveId?: (now: number) => string;
  /** Most events in one archive (default 10000); a stream is never split. */
  maxEventsPerArchive?: number;
  /** Archives written in one run (default 10; Infinity: until the scan has come round once). */
  maxArchives?: number;
  /** Candidate streams examined in one run at most (default 100000). */
  maxCandidates?: number;
  /** Candidate streams read per query (default 500). */
  candidatePage?: number;
  /** Rows deleted per transaction (default 1000). */
  deleteBatchSize?: number;
  /** Per delete transaction: how long to wait for a row lock (default 2000 ms) and to run (default 30000 ms). */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  dryRun?: boolean;
  /**
   * Share of the time the run works (default 1): after each step (a page of candidates, an archive
   * written, an archive checked, a delete batch) it rests so that it works at most this share.
   */
  dutyCycle?: number;
  /** A monotonic clock in ms for pacing (default performance.now), and how to rest. */
  timer?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called after an archive's file and rows are written, before its deletes (tests interrupt here). */
  afterArchiveWritten?: (archiveId: string) => Promise<void>;
}

export interface ArchiveRun {
  archiveId: string;
  streams: number;
  events: number;
  firstPosition: number;
  lastPosition: number;
  sha256: string;
  /** Finished from an earlier, interrupted run. */
  resumed: boolean;
}

export interface RetentionReport {
  dryRun: boolean;
  archives: ArchiveRun[];
  /** Streams that would be archived (dry run) or were: the first STREAMS_LISTED of them. */
  streams: string[];
  /** How many streams would be archived (dry run) or were. */
  streamCount: number;
  candidatesExamined: number;
  /** Positions scanned for candidates: after `from` up to `to`, going round to the start once. */
  scan: { from: number; to: number; wrapped: boolean; complete: boolean };
  /** Time spent resting to keep the duty cycle, in ms. */
  restedMs: number;
}

/**
 * Archives the streams closed longer than the policy keeps them (policy.ts): each archive's file and
 * signed manifest are written and synced before anything is deleted; then its events are deleted in
 * small transactions through the audited bypass of the append-only trigger, and the run is recorded
 * as `StreamsArchived` in the `retention` stream. Archives an earlier run left unfinished are checked
 * again and finished first.
 */
export async function archiveClosedStreams(
  dataSource: DataSource,
  store: EventStore,
  options: RetentionOptions,
): Promise<RetentionReport> {
  return withRetentionLock(dataSource, () => run(dataSource, store, options));
}

const performanceNow = () => performance.now();

const emptyReport = (dryRun: boolean): RetentionReport => ({
  dryRun,
  archives: [],
  streams: [],
  streamCount: 0,
  candidatesExamined: 0,
  scan: { from: 0, to: 0, wrapped: false, complete: false },
  restedMs: 0,
});

async function run(
  dataSource: DataSource,
  store: EventStore,
  options: RetentionOptions,
): Promise<RetentionReport> {
  const clock = options.clock ?? Date.now;
  const pacer = new Pacer(options.dutyCycle ?? 1, options.timer ?? performanceNow, options.sleep ?? sleep);
  const report = emptyReport(options.dryRun === true);
  if (!report.dryRun) {
    for (const archiveId of await unfinishedArchives(dataSource)) {
      report.archives.push(await finishArchive(dataSource, store, options, pacer, archiveId, true));
    }
  }
  const now = clock();
  const { bound, head } = await scanBounds(dataSource, new Date(latestArchivableStart(options.policy, now)));
  const prefixes = RETENTION_PREFIXES.map(([prefix]) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  const maxEvents = options.maxEventsPerArchive ?? 10_000;
  const maxArchives = options.maxArchives ?? 10;
  const maxCandidates = options.maxCandidates ?? 100_000;
  const pageSize = options.candidatePage ?? 500;
  // The scan goes on from where the last run stopped, to the bound, then round from the start to
  // where it began: each closed stream is reached within one round, however many runs it takes.
  const from = Math.min(await scanCursor(dataSource), bound);
  let after = from;
  let upTo = bound;
  report.scan.from = from;
  let batch: RecordedEvent[][] = [];
  let batchEvents = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    for (const s of batch) if (report.streams.length < STREAMS_LISTED) report.streams.push(s[0]!.streamId);
    report.streamCount += batch.length;
    if (!report.dryRun)
      report.archives.push(await writeAndFinish(dataSource, store, options, pacer, batch.flat()));
    batch = [];
    batchEvents = 0;
  };
  while (
    report.archives.filter((a) => !a.resumed).length < maxArchives &&
    report.candidatesExamined < maxCandidates
  ) {
    const { rows, byStream } = await pacer.step(() =>
      candidatePage(dataSource, { after, upTo, prefixes, pageSize }),
    );
    if (rows.length > 0) {
      after = Number(rows[rows.length - 1]!.global_position);
      report.candidatesExamined += rows.length;
    }
    for (const row of rows) {
      const stream = byStream.get(row.stream_id);
      if (!stream || !isArchivable(row.stream_id, stream, options.policy, now)) continue;
      // The chain's tip stays live: the next append links to it (pg-append.ts).
      if (stream[stream.length - 1]!.globalPosition >= head) continue;
      if (batch.length > 0 && batchEvents + stream.length > maxEvents) await flush();
      batch.push(stream);
      batchEvents += stream.length;
    }
    if (rows.length < pageSize) {
      if (report.scan.wrapped || from === 0) {
        report.scan.complete = true;
        after = 0;
        break;
      }
      report.scan.wrapped = true;
      after = 0;
      upTo = from;
    }
  }
  await flush();
  report.scan.to = report.scan.complete ? (report.scan.wrapped ? from : bound) : after;
  report.restedMs = Math.round(pacer.rested);
  if (!report.dryRun) await saveScanCursor(dataSource, after, new Date(now));
  return report;
}

async function writeAndFinish(
  dataSource: DataSource,
  store: EventStore,
  options: RetentionOptions,
  pacer: Pacer,
  streams: RecordedEvent[],
): Promise<ArchiveRun> {
  const events = [...streams].sort((a, b) => a.globalPosition - b.globalPosition);
  const now = (options.clock ?? Date.now)();
  const archiveId = (options.newArchiveId ?? ((at: number) => `events-${timeOrderedId(at)}`))(now);
  const file = encodeArchive(events);
  const manifest = buildManifest(archiveId, new Date(now), events, file);
  await pacer.step(async () => {
    await writeArchive(options.archiveDir, file, await signManifest(manifest, options.signingKey));
    await recordArchive(dataSource, archiveId, now, manifest);
  });
  await options.afterArchiveWritten?.(archiveId);
  return finishArchive(dataSource, store, options, pacer, archiveId, false);
}

async function recordArchive(
  dataSource: DataSource,
  archiveId: string,
  now: number,
  manifest: ArchiveManifest,
): Promise<void> {
  await inTransaction(dataSource, async (qr) => {
    await qr.query(
      `INSERT INTO event_archives (archive_id, created_at, file_name, sha256, event_count, first_position, last_position)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        archiveId,
        new Date(now),
        archiveFileName(archiveId),
        manifest.sha256,
        manifest.eventCount,
        manifest.firstPosition,
        manifest.lastPosition,
      ],
    );
    await qr.query(
      `INSERT INTO event_archive_events (archive_id, global_position, hash)
       SELECT $1, p, decode(h, 'hex') FROM unnest($2::bigint[], $3::text[]) AS a(p, h)`,
      [archiveId, manifest.events.map((e) => e.position), manifest.events.map((e) => e.hash)],
    );
  });
}

async function unfinishedArchives(dataSource: DataSource): Promise<string[]> {
  const rows = (await dataSource.query(
    `SELECT archive_id FROM event_archives WHERE completed_at IS NULL ORDER BY created_at, archive_id`,
  )) as { archive_id: string }[];
  return rows.map((r) => r.archive_id);
}

/**
 * Checks the archive on disk against its row (signature, checksum, the positions listed; for an
 * archive an earlier run left, every event's hash too), then deletes what is left of its events and
 * records the run once. An archive this run just wrote from the rows it read needs only its bytes
 * read back: the signed checksum binds the file to what was encoded.
 */
async function finishArchive(
  dataSource: DataSource,
  store: EventStore,
  options: RetentionOptions,
  pacer: Pacer,
  archiveId: string,
  resumed: boolean,
): Promise<ArchiveRun> {
  const manifest = await pacer.step(async () => {
    const m = await readManifest(options.archiveDir, archiveId, [publicJwk(options.signingKey)]);
    if (resumed) await readVerifiedArchive(options.archiveDir, m);
    else await checkArchiveChecksum(options.archiveDir, m);
    await checkRecord(dataSource, archiveId, m);
    return m;
  });
  await deleteArchived(dataSource, options, pacer, archiveId);
  const streamIds = manifest.streams.map((s) => s.streamId);
  await dataSource.query(`DELETE FROM stream_snapshots WHERE stream_id = ANY($1::text[])`, [streamIds]);
  const recorded = (await dataSource.query(
    `SELECT 1 FROM events WHERE stream_id = $1 AND type = 'StreamsArchived' AND data->>'archiveId' = $2`,
    [RETENTION_STREAM, archiveId],
  )) as unknown[];
  if (recorded.length === 0) {
    const event: StreamsArchived = {
      type: 'StreamsArchived',
      data: {
        archiveId,
        file: manifest.file,
        streams: manifest.streams.length,
        events: manifest.eventCount,
        firstPosition: manifest.firstPosition,
        lastPosition: manifest.lastPosition,
        sha256: manifest.sha256,
      },
    };
    await store.appendToStream(RETENTION_STREAM, 'any', [
      { ...event, metadata: { actor: 'system:retention' } },
    ]);
  }
  await dataSource.query(`UPDATE event_archives SET completed_at = $2 WHERE archive_id = $1`, [
    archiveId,
    new Date((options.clock ?? Date.now)()),
  ]);
  return {
    archiveId,
    streams: manifest.streams.length,
    events: manifest.eventCount,
    firstPosition: manifest.firstPosition,
    lastPosition: manifest.lastPosition,
    sha256: manifest.sha256,
    resumed,
  };
}

/** The database's record of an archive: what the trigger lets through must be exactly the signed manifest. */
async function checkRecord(
  dataSource: DataSource,
  archiveId: string,
  manifest: ArchiveManifest,
): Promise<void> {
  const [row] = (await dataSource.query(`SELECT sha256 FROM event_archives WHERE archive_id = $1`, [
    archiveId,
  ])) as { sha256: string }[];
  const listed = (await dataSource.query(
    `SELECT global_position, encode(hash, 'hex') AS hash FROM event_archive_events
     WHERE archive_id = $1 ORDER BY global_position`,
    [archiveId],
  )) as { global_position: string; hash: string | null }[];
  const same =
    listed.length === manifest.events.length &&
    listed.every((l, i) => {
      const link = manifest.events[i]!;
      return Number(l.global_position) === link.position && l.hash === link.hash;
    });
  if (!row || row.sha256 !== manifest.sha256 || !same) {
    throw new ArchiveError(archiveId, 'its database record does not match the manifest: nothing deleted');
  }
}

/** What is left of an archive's events, deleted in short transactions through the audited bypass. */
async function deleteArchived(
  dataSource: DataSource,
  options: RetentionOptions,
  pacer: Pacer,
  archiveId: string,
): Promise<void> {
  const batchSize = options.deleteBatchSize ?? 1000;
  for (;;) {
    const deleted = await pacer.step(() =>
      inTransaction(dataSource, async (qr) => {
        await qr.query(
          `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true),
           set_config('retention.archive_id', $3, true)`,
          [`${options.lockTimeoutMs ?? 2000}ms`, `${options.statementTimeoutMs ?? 30_000}ms`, archiveId],
        );
        const [{ n }] = (await qr.query(
          `WITH gone AS (
           DELETE FROM events WHERE global_position IN (
             SELECT a.global_position FROM event_archive_events a
             JOIN events e ON e.global_position = a.global_position AND e.hash IS NOT DISTINCT FROM a.hash
             WHERE a.archive_id = $1 ORDER BY a.global_position LIMIT $2)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
          [archiveId, batchSize],
        )) as { n: number }[];
        return n;
      }),
    );
    if (deleted === 0) break;
  }
}
