import { grantStateProjection, tokenStateProjection } from '#lib/domain-token';
import {
  createEventStoreDataSource,
  PgEventStore,
  type Projection,
  rebuildAndCompare,
  type RebuildReport,
} from '#lib/event-store';

/** Every projection a service keeps, by name. */
export const PROJECTIONS: readonly Projection[] = [
  tokenStateProjection as Projection,
  grantStateProjection as Projection,
];

export function describeReport(r: RebuildReport): string[] {
  const lines = [
    `${r.projection}: ${r.equal ? 'EQUAL' : 'DIFFERENT'} at position ${r.position} ` +
      `(live ${r.liveRows} row(s), rebuilt ${r.rebuiltRows} row(s))`,
  ];
  if (r.onlyLive.length > 0) lines.push(`  only in live: ${r.onlyLive.join(', ')}`);
  if (r.onlyRebuilt.length > 0) lines.push(`  only in rebuilt: ${r.onlyRebuilt.join(', ')}`);
  if (r.different.length > 0) lines.push(`  rows differing: ${r.different.join(', ')}`);
  if (r.replaced) lines.push(`  live rows replaced by the rebuilt ones`);
  return lines;
}

/** `projections rebuild --json`: one report, snake_case. */
export function reportDocument(r: RebuildReport): Record<string, unknown> {
  return {
    projection: r.projection,
    equal: r.equal,
    position: r.position,
    live_rows: r.liveRows,
    rebuilt_rows: r.rebuiltRows,
    only_live: r.onlyLive,
    only_rebuilt: r.onlyRebuilt,
    different: r.different,
    replaced: r.replaced,
  };
}

/** `projections rebuild`: rebuilds `name` (default: every projection) and compares it. */
export async function rebuildProjections(
  databaseUrl: string,
  name: string | undefined,
  replace: boolean,
): Promise<RebuildReport[]> {
  const chosen = name === undefined ? PROJECTIONS : PROJECTIONS.filter((p) => p.name === name);
  if (chosen.length === 0) {
    throw new Error(`unknown projection ${name}; known: ${PROJECTIONS.map((p) => p.name).join(', ')}`);
  }
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 2, applicationName: 'cli projections' });
  await ds.initialize();
  try {
    const reports: RebuildReport[] = [];
    for (const projection of chosen) {
      reports.push(await rebuildAndCompare(ds, new PgEventStore(ds), projection, { replace }));
    }
    return reports;
  } finally {
    await ds.destroy();
  }
}
