import {
  type ChainReport,
  createEventStoreDataSource,
  PgEventStore,
  verifyStoredChain,
} from '#lib/event-store';

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
