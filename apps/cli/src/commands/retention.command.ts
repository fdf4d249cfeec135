import { getPriority, setPriority } from 'node:os';
import { type JWK } from 'jose';
import { type Config } from '#lib/config';
import {
  archiveClosedStreams,
  type ArchivedChainReport,
  createEventStoreDataSource,
  PgEventStore,
  publicJwk,
  type RestoreReport,
  restoreStream,
  type ArchivesForVerification,
  readArchivesForVerification,
  type RetentionOptions,
  type RetentionReport,
  verifyChainWithArchives,
} from '#lib/event-store';
import { CliError } from '../output.js';
import { chainDocument, describeChain } from './audit.command.js';

/** `retention run`, `retention restore` and `audit verify --archives` (docs/retention.md). */

async function withStore<T>(
  databaseUrl: string,
  name: string,
  work: (ds: ReturnType<typeof createEventStoreDataSource>, store: PgEventStore) => Promise<T>,
): Promise<T> {
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 2, applicationName: `cli ${name}` });
  await ds.initialize();
  try {
    return await work(ds, new PgEventStore(ds));
  } finally {
    await ds.destroy();
  }
}

function archiveDir(config: Config, given: string | undefined): string {
  const dir = given ?? config.retentionArchiveDir;
  if (!dir) throw new CliError('no archive directory: set RETENTION_ARCHIVE_DIR or pass --archives <dir>');
  return dir;
}

function signingKey(config: Config): JWK {
  try {
    return config.retentionSigningKey as JWK;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** The keys a manifest may be signed with: the current signing key's public half and RETENTION_VERIFY_KEYS. */
export function verifyKeys(config: Config): JWK[] {
  const keys = config.retentionVerifyKeys.map((k) => k as JWK);
  try {
    keys.unshift(publicJwk(config.retentionSigningKey as JWK));
  } catch {
    // Verifying needs no private key: RETENTION_VERIFY_KEYS alone may be set.
  }
  if (keys.length === 0) {
    throw new CliError(
      'no key to verify archive manifests with: set RETENTION_VERIFY_KEYS or RETENTION_SIGNING_KEY',
    );
  }
  return keys;
}

/**
 * A run is background work: the lowest CPU priority (POSIX nice 19) for this process, so that on a
 * shared host the services' requests come first. Returns the priority the process runs at.
 */
export function yieldCpu(): number {
  try {
    setPriority(19);
  } catch {
    // Not permitted here (some sandboxes): the duty cycle still paces the run.
  }
  return getPriority();
}

/** What the RETENTION_* settings ask of a run. */
export function retentionRunOptions(
  config: Config,
  dryRun: boolean,
): Omit<RetentionOptions, 'archiveDir' | 'signingKey'> {
  return {
    dryRun,
    deleteBatchSize: config.retentionDeleteBatch,
    dutyCycle: config.retentionDutyCycle / 100,
    ...(config.retentionMaxArchives === 0
      ? { maxArchives: Infinity, maxCandidates: Infinity }
      : { maxArchives: config.retentionMaxArchives }),
    policy: {
      accessTokenDays: config.retentionAccessTokenDays,
      grantDays: config.retentionGrantDays,
      sessionDays: config.retentionSessionDays,
      userDays: config.retentionUserDays,
    },
  };
}

export async function retentionRun(config: Config, dryRun: boolean): Promise<RetentionReport> {
  const dir = archiveDir(config, undefined);
  const key = dryRun ? {} : signingKey(config);
  return withStore(config.databaseUrl, 'retention run', (ds, store) =>
    archiveClosedStreams(ds, store, {
      archiveDir: dir,
      signingKey: key,
      ...retentionRunOptions(config, dryRun),
    }),
  );
}

export function retentionDocument(report: RetentionReport, cpuPriority?: number): Record<string, unknown> {
  return {
    dry_run: report.dryRun,
    ...(cpuPriority === undefined ? {} : { cpu_priority: cpuPriority }),
    candidates_examined: report.candidatesExamined,
    scan: {
      from_position: report.scan.from,
      to_position: report.scan.to,
      wrapped: report.scan.wrapped,
      complete: report.scan.complete,
    },
    rested_ms: report.restedMs,
    stream_count: report.streamCount,
    streams: report.streams,
    archives: report.archives.map((a) => ({
      archive_id: a.archiveId,
      streams: a.streams,
      events: a.events,
      first_position: a.firstPosition,
      last_position: a.lastPosition,
      sha256: a.sha256,
      resumed: a.resumed,
    })),
  };
}

export function describeRetention(report: RetentionReport): string[] {
  if (report.dryRun) {
    return [
      `${report.streamCount} closed stream(s) would be archived (${report.candidatesExamined} examined)`,
      ...report.streams.map((s) => `  ${s}`),
    ];
  }
  if (report.archives.length === 0)
    return [`nothing to archive (${report.candidatesExamined} stream(s) examined)`];
  return report.archives.map(
    (a) =>
      `archive ${a.archiveId}${a.resumed ? ' (finished from an earlier run)' : ''}: ${a.streams} stream(s), ` +
      `${a.events} event(s), positions ${a.firstPosition}..${a.lastPosition}, sha256 ${a.sha256}`,
  );
}

export async function retentionRestore(
  config: Config,
  streamId: string,
  dir: string | undefined,
): Promise<RestoreReport> {
  const archives = archiveDir(config, dir);
  const keys = verifyKeys(config);
  return withStore(config.databaseUrl, 'retention restore', (ds, store) =>
    restoreStream(ds, store, streamId, { archiveDir: archives, verifyKeys: keys }).catch((err: Error) => {
      throw new CliError(err.message);
    }),
  );
}

export function restoreDocument(report: RestoreReport): Record<string, unknown> {
  return {
    stream_id: report.streamId,
    archives: report.archives,
    events: report.events,
    positions: report.positions,
  };
}

/**
 * `audit verify` with archives: the manifests of `dir` (or RETENTION_ARCHIVE_DIR) bridge archived
 * runs; `content` (--archives) also checks every archive file whole.
 */
export async function auditReportWithArchives(
  config: Config,
  dir: string | undefined,
  content: boolean,
): Promise<ArchivedChainReport> {
  const archives = archiveDir(config, dir);
  const keys = verifyKeys(config);
  return withStore(config.databaseUrl, 'audit verify', (_ds, store) =>
    verifyChainWithArchives(store, archives, keys, content),
  );
}

/** The archives `audit verify --checkpoints` also reads, when archives are configured or given. */
export async function archivesForVerification(
  config: Config,
  dir: string | undefined,
  content: boolean,
): Promise<ArchivesForVerification> {
  return readArchivesForVerification(archiveDir(config, dir), verifyKeys(config), content);
}

/** The archive members of `audit verify --json`. */
export function archivesDocument(
  archives: ArchivesForVerification,
  archived: number,
): Record<string, unknown> {
  return {
    archived,
    archives: archives.manifests.length,
    archived_events: archives.archivedEvents,
    archive_problem: archives.archiveProblem && {
      archive_id: archives.archiveProblem.archiveId,
      position: archives.archiveProblem.position,
      message: archives.archiveProblem.message,
    },
  };
}

export function archivedChainDocument(report: ArchivedChainReport): Record<string, unknown> {
  return {
    ...chainDocument(report.chain),
    intact: report.chain.break === null && report.archiveProblem === null,
    archived: report.chain.archived ?? 0,
    archives: report.archives,
    archived_events: report.archivedEvents,
    archive_problem: report.archiveProblem && {
      archive_id: report.archiveProblem.archiveId,
      position: report.archiveProblem.position,
      message: report.archiveProblem.message,
    },
  };
}

export function describeArchivedChain(report: ArchivedChainReport): string[] {
  const lines = describeChain(report.chain);
  lines.push(
    `${report.archives} archive manifest(s), ${report.archivedEvents} archived event(s); ` +
      `${report.chain.archived ?? 0} missing event(s) accounted for by them`,
  );
  if (report.archiveProblem) lines.push(`archive BROKEN: ${report.archiveProblem.message}`);
  return lines;
}
