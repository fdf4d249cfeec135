import { parseArgs } from 'node:util';
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

export const PROJECTIONS_USAGE = `projections rebuild [NAME] [--replace]
               rebuild NAME (default: all) from position 0 beside the live one and compare them;
               --replace swaps the rebuilt rows in`;

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

/** `projections rebuild`: resolves to true when every rebuilt projection equals the live one. */
export async function projectionsCommand(
  databaseUrl: string,
  args: string[],
  print: (line: string) => void,
): Promise<boolean> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { replace: { type: 'boolean' } },
  });
  const [sub, name] = positionals;
  if (sub !== 'rebuild') throw new Error(`usage: ${PROJECTIONS_USAGE}`);
  const chosen = name === undefined ? PROJECTIONS : PROJECTIONS.filter((p) => p.name === name);
  if (chosen.length === 0) {
    throw new Error(`unknown projection ${name}; known: ${PROJECTIONS.map((p) => p.name).join(', ')}`);
  }
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 2, applicationName: 'cli projections' });
  await ds.initialize();
  try {
    let equal = true;
    for (const projection of chosen) {
      const report = await rebuildAndCompare(ds, new PgEventStore(ds), projection, {
        replace: values.replace ?? false,
      });
      describeReport(report).forEach((l) => print(l));
      equal &&= report.equal;
    }
    return equal;
  } finally {
    await ds.destroy();
  }
}
