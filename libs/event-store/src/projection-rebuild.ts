import { type DataSource, type QueryRunner } from 'typeorm';
import { type EventStore } from './event-store.js';
import { type Projection } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';
import { inTransaction } from './transaction.js';

export interface RebuildOptions {
  /** Checkpoint prefix of the live runner (ProjectionRunnerOptions.checkpointName, default 'projection'). */
  checkpointName?: string;
  /** Swap the rebuilt rows in for the live ones (whether they were equal or not). */
  replace?: boolean;
  /** Clock both projections are pruned by before they are compared (default Date.now). */
  clock?: () => number;
  /** Most differing keys listed per kind (default 20). */
  maxListed?: number;
  batchSize?: number;
}

export interface RebuildReport {
  projection: string;
  /** Global position both the live and the rebuilt projection had folded when compared. */
  position: number;
  liveRows: number;
  rebuiltRows: number;
  equal: boolean;
  /** Keys only the live projection has, only the rebuilt one has, and keys whose rows differ. */
  onlyLive: string[];
  onlyRebuilt: string[];
  different: string[];
  replaced: boolean;
}

/** Rebuilds a shadow copy until it has folded the same position as the live projection. */
const ATTEMPTS = 20;

/**
 * Rebuilds `projection` from position 0 into the shadow projection `<name>~rebuild` and compares it
 * with the live one at the same global position and the same clock (rows expired at that instant
 * are pruned from both first), row by row (doc and position). The comparison and the optional swap
 * run in one transaction holding both checkpoints, so a live runner waits meanwhile. Without
 * `replace` the shadow is dropped afterwards.
 */
export async function rebuildAndCompare(
  dataSource: DataSource,
  store: EventStore,
  projection: Projection,
  options: RebuildOptions = {},
): Promise<RebuildReport> {
  const prefix = options.checkpointName ?? 'projection';
  const clock = options.clock ?? Date.now;
  const shadow: Projection = { ...projection, name: `${projection.name}~rebuild` };
  const pair: LiveAndShadow = {
    projection,
    shadowName: shadow.name,
    liveCheckpoint: `${prefix}:${projection.name}`,
    shadowCheckpoint: `${prefix}:${shadow.name}`,
  };
  const runnerOptions = { checkpointName: prefix, clock, batchSize: options.batchSize };
  const live = new ProjectionRunner(dataSource, store, [projection], runnerOptions);
  const rebuilt = new ProjectionRunner(dataSource, store, [shadow], runnerOptions);

  await dropShadow(dataSource, pair.shadowName, pair.shadowCheckpoint);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await live.catchUp();
    await rebuilt.catchUp();
    const report = await inTransaction(dataSource, (qr) =>
      compareAtOnePosition(qr, pair, {
        clock,
        maxListed: options.maxListed ?? 20,
        replace: options.replace === true,
      }),
    );
    if (report) {
      await dropShadow(dataSource, pair.shadowName, pair.shadowCheckpoint);
      return report;
    }
  }
  await dropShadow(dataSource, pair.shadowName, pair.shadowCheckpoint);
  throw new Error(`projection ${projection.name}: the live projection kept moving; try again`);
}

/** The live projection, its shadow's name, and both checkpoints' names. */
interface LiveAndShadow {
  projection: Projection;
  shadowName: string;
  liveCheckpoint: string;
  shadowCheckpoint: string;
}

/**
 * In the caller's transaction: locks both checkpoints and, when both have folded the same
 * position, prunes expired rows from both, compares them row by row and (with `replace`) swaps the
 * shadow's rows in. Null when the positions differ (the live runner moved on).
 */
async function compareAtOnePosition(
  qr: QueryRunner,
  pair: LiveAndShadow,
  options: { clock: () => number; maxListed: number; replace: boolean },
): Promise<RebuildReport | null> {
  const { projection, shadowName } = pair;
  const position = await lockedCommonPosition(qr, pair);
  if (position === null) return null;
  if (projection.expiresAt) {
    await qr.query(`DELETE FROM projection_rows WHERE projection = ANY($1::text[]) AND expires_at <= $2`, [
      [projection.name, shadowName],
      new Date(options.clock()),
    ]);
  }
  const diff = await differingKeys(qr, projection.name, shadowName);
  const count = await rowCounts(qr, projection.name, shadowName);
  const listed = (kind: DifferingKey['kind']) =>
    diff
      .filter((d) => d.kind === kind)
      .map((d) => d.key)
      .slice(0, options.maxListed);
  const result: RebuildReport = {
    projection: projection.name,
    position,
    liveRows: count(projection.name),
    rebuiltRows: count(shadowName),
    equal: diff.length === 0,
    onlyLive: listed('live'),
    onlyRebuilt: listed('rebuilt'),
    different: listed('different'),
    replaced: false,
  };
  if (options.replace) {
    await swapShadowIn(qr, pair, position);
    result.replaced = true;
  }
  return result;
}

/** Both checkpoints, locked (FOR UPDATE); their position when it is the same, else null. */
async function lockedCommonPosition(qr: QueryRunner, pair: LiveAndShadow): Promise<number | null> {
  const rows: { name: string; position: string }[] = await qr.query(
    `SELECT name, position FROM checkpoints WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
    [[pair.liveCheckpoint, pair.shadowCheckpoint]],
  );
  const at = new Map(rows.map((r) => [r.name, Number(r.position)]));
  const position = at.get(pair.shadowCheckpoint) ?? 0;
  return (at.get(pair.liveCheckpoint) ?? 0) === position ? position : null;
}

interface DifferingKey {
  key: string;
  kind: 'live' | 'rebuilt' | 'different';
}

/** The keys only one side has, or whose doc or position differ, in byte order. */
function differingKeys(qr: QueryRunner, live: string, shadow: string): Promise<DifferingKey[]> {
  return qr.query(
    `SELECT coalesce(l.key, r.key) AS key,
       CASE WHEN r.key IS NULL THEN 'live' WHEN l.key IS NULL THEN 'rebuilt' ELSE 'different' END AS kind
     FROM (SELECT key, doc, position FROM projection_rows WHERE projection = $1) l
     FULL JOIN (SELECT key, doc, position FROM projection_rows WHERE projection = $2) r ON l.key = r.key
     WHERE l.key IS NULL OR r.key IS NULL OR l.doc <> r.doc OR l.position <> r.position
     ORDER BY coalesce(l.key, r.key) COLLATE "C"`,
    [live, shadow],
  ) as Promise<DifferingKey[]>;
}

/** The number of rows of each of the two projections. */
async function rowCounts(qr: QueryRunner, live: string, shadow: string): Promise<(name: string) => number> {
  const counts: { projection: string; n: number }[] = await qr.query(
    `SELECT projection, count(*)::int AS n FROM projection_rows WHERE projection = ANY($1::text[])
     GROUP BY projection`,
    [[live, shadow]],
  );
  return (name) => counts.find((c) => c.projection === name)?.n ?? 0;
}

/** The shadow's rows become the live projection's, and its checkpoint the shadow's position. */
async function swapShadowIn(qr: QueryRunner, pair: LiveAndShadow, position: number): Promise<void> {
  await qr.query(`DELETE FROM projection_rows WHERE projection = $1`, [pair.projection.name]);
  await qr.query(`UPDATE projection_rows SET projection = $1 WHERE projection = $2`, [
    pair.projection.name,
    pair.shadowName,
  ]);
  await qr.query(`UPDATE checkpoints SET position = $2, updated_at = now() WHERE name = $1`, [
    pair.liveCheckpoint,
    position,
  ]);
}

async function dropShadow(dataSource: DataSource, name: string, checkpoint: string): Promise<void> {
  await inTransaction(dataSource, async (qr) => {
    await qr.query(`DELETE FROM projection_rows WHERE projection = $1`, [name]);
    await qr.query(`DELETE FROM checkpoints WHERE name = $1`, [checkpoint]);
  });
}
