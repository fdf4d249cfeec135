import { type DataSource } from 'typeorm';
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
  const maxListed = options.maxListed ?? 20;
  const shadow: Projection = { ...projection, name: `${projection.name}~rebuild` };
  const liveCheckpoint = `${prefix}:${projection.name}`;
  const shadowCheckpoint = `${prefix}:${shadow.name}`;
  const runnerOptions = { checkpointName: prefix, clock, batchSize: options.batchSize };
  const live = new ProjectionRunner(dataSource, store, [projection], runnerOptions);
  const rebuilt = new ProjectionRunner(dataSource, store, [shadow], runnerOptions);

  await dropShadow(dataSource, shadow.name, shadowCheckpoint);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    await live.catchUp();
    await rebuilt.catchUp();
    const report = await inTransaction(dataSource, async (qr) => {
      const rows: { name: string; position: string }[] = await qr.query(
        `SELECT name, position FROM checkpoints WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
        [[liveCheckpoint, shadowCheckpoint]],
      );
      const at = new Map(rows.map((r) => [r.name, Number(r.position)]));
      const position = at.get(shadowCheckpoint) ?? 0;
      if ((at.get(liveCheckpoint) ?? 0) !== position) return null;
      if (projection.expiresAt) {
        await qr.query(
          `DELETE FROM projection_rows WHERE projection = ANY($1::text[]) AND expires_at <= $2`,
          [[projection.name, shadow.name], new Date(clock())],
        );
      }
      const diff: { key: string; kind: 'live' | 'rebuilt' | 'different' }[] = await qr.query(
        `SELECT coalesce(l.key, r.key) AS key,
           CASE WHEN r.key IS NULL THEN 'live' WHEN l.key IS NULL THEN 'rebuilt' ELSE 'different' END AS kind
         FROM (SELECT key, doc, position FROM projection_rows WHERE projection = $1) l
         FULL JOIN (SELECT key, doc, position FROM projection_rows WHERE projection = $2) r ON l.key = r.key
         WHERE l.key IS NULL OR r.key IS NULL OR l.doc <> r.doc OR l.position <> r.position
         ORDER BY coalesce(l.key, r.key) COLLATE "C"`,
        [projection.name, shadow.name],
      );
      const counts: { projection: string; n: number }[] = await qr.query(
        `SELECT projection, count(*)::int AS n FROM projection_rows WHERE projection = ANY($1::text[])
         GROUP BY projection`,
        [[projection.name, shadow.name]],
      );
      const count = (name: string) => counts.find((c) => c.projection === name)?.n ?? 0;
      const result: RebuildReport = {
        projection: projection.name,
        position,
        liveRows: count(projection.name),
        rebuiltRows: count(shadow.name),
        equal: diff.length === 0,
        onlyLive: diff
          .filter((d) => d.kind === 'live')
          .map((d) => d.key)
          .slice(0, maxListed),
        onlyRebuilt: diff
          .filter((d) => d.kind === 'rebuilt')
          .map((d) => d.key)
          .slice(0, maxListed),
        different: diff
          .filter((d) => d.kind === 'different')
          .map((d) => d.key)
          .slice(0, maxListed),
        replaced: false,
      };
      if (options.replace) {
        await qr.query(`DELETE FROM projection_rows WHERE projection = $1`, [projection.name]);
        await qr.query(`UPDATE projection_rows SET projection = $1 WHERE projection = $2`, [
          projection.name,
          shadow.name,
        ]);
        await qr.query(`UPDATE checkpoints SET position = $2, updated_at = now() WHERE name = $1`, [
          liveCheckpoint,
          position,
        ]);
        result.replaced = true;
      }
      return result;
    });
    if (report) {
      await dropShadow(dataSource, shadow.name, shadowCheckpoint);
      return report;
    }
  }
  await dropShadow(dataSource, shadow.name, shadowCheckpoint);
  throw new Error(`projection ${projection.name}: the live projection kept moving; try again`);
}

async function dropShadow(dataSource: DataSource, name: string, checkpoint: string): Promise<void> {
  await inTransaction(dataSource, async (qr) => {
    await qr.query(`DELETE FROM projection_rows WHERE projection = $1`, [name]);
    await qr.query(`DELETE FROM checkpoints WHERE name = $1`, [checkpoint]);
  });
}
