import {
  ChainCheckpointer,
  type ChainReport,
  type ChainVerifierOptions,
  CheckpointAuditor,
  CheckpointRejectedError,
  type CheckpointReport,
  checkpointSigningKey,
  checkpointVerificationKey,
  type CheckpointWritten,
  createEventStoreDataSource,
  DirectoryCheckpointSink,
  PgEventStore,
  readCheckpointDirectory,
  verifyStoredChain,
  withArchivedEvents,
} from '#lib/event-store';
import { CliError } from '../output.js';

/** Reads the whole log from Postgres and recomputes the hash chain (docs/events.md "Hash chain"). */
export async function auditReport(databaseUrl: string): Promise<ChainReport> {
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 1, applicationName: 'cli audit verify' });
  await ds.initialize();
  try {
    return await verifyStoredChain(new PgEventStore(ds));
  } finally {
    await ds.destroy();
  }
}

export function describeChain(report: ChainReport): string[] {
  const lines: string[] = [];
  if (report.unhashed > 0) {
    lines.push(`${report.unhashed} event(s) recorded before the hash chain existed: not covered`);
  }
  if (report.break) {
    lines.push(`chain BROKEN after ${report.checked} good event(s): ${report.break.message}`);
    lines.push(`first bad event: position ${report.break.position} (${report.break.kind})`);
    return lines;
  }
  lines.push(`chain intact: ${report.checked} event(s) checked`);
  if (report.head) lines.push(`head: position ${report.head.position} hash ${report.head.hash}`);
  return lines;
}

/** `audit verify --json`: the report in snake_case. */
export function chainDocument(report: ChainReport): Record<string, unknown> {
  return {
    intact: report.break === null,
    checked: report.checked,
    unhashed: report.unhashed,
    head: report.head,
    break: report.break && {
      kind: report.break.kind,
      position: report.break.position,
      event_id: report.break.eventId,
      message: report.break.message,
    },
  };
}

/**
 * `audit verify`: resolves to true when the chain holds; prints the first break otherwise.
 */
export async function auditVerify(databaseUrl: string, print: (line: string) => void): Promise<boolean> {
  const report = await auditReport(databaseUrl);
  describeChain(report).forEach((l) => print(l));
  return report.break === null;
}

/** Where `audit verify --checkpoints` reads checkpoints and the key they must verify with. */
export interface CheckpointSource {
  dir: string;
  /** A public JWK / SPKI PEM, or the private signing key (its public half is used). */
  keyMaterial: string;
}

export interface AuditResult {
  chain: ChainReport;
  checkpoints: CheckpointReport | null;
}

/** The hash chain, and each checkpoint of `source` held against it, in one read of the log. */
export async function auditWithCheckpoints(
  databaseUrl: string,
  source: CheckpointSource,
  options?: ChainVerifierOptions,
): Promise<AuditResult> {
  const key = await checkpointVerificationKey(source.keyMaterial).catch((err: Error) => {
    throw new CliError(`the checkpoint key is refused: ${err.message}`);
  });
  const { files, accepted, rejected } = await readCheckpointDirectory(source.dir, key).catch((err: Error) => {
    throw err instanceof CheckpointRejectedError
      ? err
      : new CliError(`cannot read ${source.dir}: ${err.message}`);
  });
  const auditor = new CheckpointAuditor(accepted, files, rejected);
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 1, applicationName: 'cli audit verify' });
  await ds.initialize();
  try {
    // Retention: a checkpoint may cover events archived since; the audit sees them from the manifests.
    const observer = options?.archived ? withArchivedEvents(auditor, options.archived) : auditor;
    const chain = await verifyStoredChain(new PgEventStore(ds), 1000, observer, options);
    return { chain, checkpoints: auditor.result() };
  } finally {
    await ds.destroy();
  }
}

export function describeCheckpoints(report: CheckpointReport, dir: string): string[] {
  const lines = [
    `checkpoints: ${report.checked} checked, ${report.ok} ok (${report.files} file(s) in ${dir})`,
  ];
  for (const p of report.problems) lines.push(`checkpoint ${p.file ?? ''} ${p.kind}: ${p.message}`);
  if (report.firstRewritten) {
    lines.push(
      `first rewritten event: position ${report.firstRewritten.position} (${report.firstRewritten.eventId})`,
    );
  } else if (report.lastGoodPosition !== null) {
    lines.push(`events removed after position ${report.lastGoodPosition}`);
  }
  if (report.problems.length === 0 && report.checked === 0) lines.push('no checkpoint to check');
  return lines;
}

export function checkpointsDocument(report: CheckpointReport): Record<string, unknown> {
  return {
    ok: report.problems.length === 0,
    files: report.files,
    checked: report.checked,
    matched: report.ok,
    first_rewritten_position: report.firstRewritten?.position ?? null,
    first_rewritten_event_id: report.firstRewritten?.eventId ?? null,
    last_good_position: report.lastGoodPosition,
    problems: report.problems,
  };
}

/** `audit checkpoint`: signs the chain head now into `dir` (the checkpoints after the last one there). */
export async function writeCheckpointNow(
  databaseUrl: string,
  dir: string,
  keyMaterial: string,
  clock: () => Date,
): Promise<CheckpointWritten[]> {
  const key = await checkpointSigningKey(keyMaterial);
  const sink = new DirectoryCheckpointSink(dir, await checkpointVerificationKey(keyMaterial));
  const ds = createEventStoreDataSource(databaseUrl, {
    poolSize: 2,
    applicationName: 'cli audit checkpoint',
  });
  await ds.initialize();
  try {
    return await new ChainCheckpointer(ds, new PgEventStore(ds), {
      key,
      sinks: [sink],
      clock,
    }).checkpointNow();
  } finally {
    await ds.destroy();
  }
}
