import { createEventStoreDataSource, PgEventStore, verifyStoredChain } from '#lib/event-store';

export const AUDIT_USAGE = `audit verify          recompute the events' hash chain; names the first event altered, inserted or removed`;

/**
 * `audit verify`: reads the whole log from Postgres and recomputes the hash chain (docs/events.md
 * "Hash chain"). Resolves to true when it holds; prints the first break otherwise.
 */
export async function auditVerify(databaseUrl: string, print: (line: string) => void): Promise<boolean> {
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 1, applicationName: 'cli audit verify' });
  await ds.initialize();
  try {
    const report = await verifyStoredChain(new PgEventStore(ds));
    if (report.unhashed > 0) {
      print(`${report.unhashed} event(s) recorded before the hash chain existed: not covered`);
    }
    if (report.break) {
      print(`chain BROKEN after ${report.checked} good event(s): ${report.break.message}`);
      print(`first bad event: position ${report.break.position} (${report.break.kind})`);
      return false;
    }
    print(`chain intact: ${report.checked} event(s) checked`);
    if (report.head) print(`head: position ${report.head.position} hash ${report.head.hash}`);
    return true;
  } finally {
    await ds.destroy();
  }
}
