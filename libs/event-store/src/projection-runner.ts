import { type DataSource, type QueryRunner } from 'typeorm';
import { type EventStore, type RecordedEvent } from './event-store.js';
import { type Projection } from './projection.js';
import { Alarm, consoleLogger, sleep, type RunnerLogger } from './loop.js';
import { evolveRows, loadRows, touchesOf, writeRows } from './projection-fold.js';
import { inTransaction } from './transaction.js';

export interface ProjectionRunnerOptions {
  /** Events read and folded per transaction (default 500). */
  batchSize?: number;
  /**
   * Prefix of the checkpoint names: projection P keeps its position in checkpoint
   * `${checkpointName}:${P.name}` (default 'projection'). Each projection has its own checkpoint so
   * that rebuilding one leaves the others untouched.
   */
  checkpointName?: string;
  /** Pause of the start() loop after a failed pass (default 1000 ms). */
  retryDelayMs?: number;
  logger?: RunnerLogger;
  /** The clock rows expire by (Projection.expiresAt); default Date.now. */
  clock?: () => number;
  /** Least time between two deletions of expired rows, by `clock` (default 5000 ms; 0: every pass). */
  pruneIntervalMs?: number;
}

/**
 * Folds events into projection rows (table projection_rows), each projection a pure
 * evolve(row, event), with durable checkpoints (table checkpoints). Contracts:
 * - one pass is one transaction: the runner's checkpoint rows are locked (so replicas on the same
 *   database take turns), events after the lowest checkpoint are read, folded and written, and the
 *   checkpoints move to the last event read; a failed pass writes nothing;
 * - an event at or below a projection's checkpoint is skipped for that projection, and so is an
 *   event at or below the position stored on the row it touches: redelivery changes nothing;
 * - a projection's rows depend only on the events: rebuilding from position 0 gives the same rows.
 *   A projection whose evolve throws stops the runner at that event (logged and retried) rather
 *   than skip it, which would break that equality;
 * - rows of a projection with `expiresAt` are stored with their expiry, and a pass (also one that
 *   finds no event) deletes those whose expiry is at or before the clock, at most once per
 *   `pruneIntervalMs`: bounded read models without a janitor job; their events stay in the log.
 *   A row already expired when a pass folds it is not written (and deleted if it was stored).
 *   Readers judge expiry themselves (an expired row may linger for that interval).
 */
export class ProjectionRunner {
  private readonly batchSize: number;
  private readonly checkpoints: Map<string, string>;
  private readonly retryDelayMs: number;
  private readonly logger: RunnerLogger;
  private readonly clock: () => number;
  private readonly byName: Map<string, Projection>;
  /** The event types the projections read, when each lists its own (Projection.eventTypes). */
  private readonly eventTypes: readonly string[] | null;
  private readonly pruneIntervalMs: number;
  /** Clock time of the last committed deletion of expired rows. */
  private lastPrune = Number.NEGATIVE_INFINITY;
  private chain: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private running = false;
  private readonly alarm = new Alarm();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly projections: Projection[],
    options: ProjectionRunnerOptions = {},
  ) {
    this.batchSize = Math.max(1, options.batchSize ?? 500);
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.logger = options.logger ?? consoleLogger;
    this.clock = options.clock ?? Date.now;
    this.pruneIntervalMs = Math.max(0, options.pruneIntervalMs ?? 5000);
    this.byName = new Map(projections.map((p) => [p.name, p]));
    this.eventTypes = projections.every((p) => p.eventTypes !== undefined)
      ? [...new Set(projections.flatMap((p) => p.eventTypes!))].sort()
      : null;
    const prefix = options.checkpointName ?? 'projection';
    this.checkpoints = new Map(projections.map((p) => [p.name, `${prefix}:${p.name}`]));
    if (this.checkpoints.size !== projections.length) throw new Error('projection names must be unique');
    if (projections.length === 0) throw new Error('a ProjectionRunner needs at least one projection');
  }

  /** One pass over the next batch from the store. Resolves to the number of events read. */
  runOnce(): Promise<number> {
    return this.exclusive(() => this.pass(null));
  }

  /**
   * Folds events delivered from elsewhere (a JetStream consumer), in global order. They are used as
   * given only if they are exactly the events stored after the lowest checkpoint up to the last one
   * delivered; otherwise (a gap: a late subscription, a filtered subject) the pass reads the store
   * instead. Resolves to the number of events folded.
   */
  handleEvents(events: RecordedEvent[]): Promise<number> {
    return this.exclusive(() => this.pass(events));
  }

  /** Passes until one finds no event. Resolves to the number of events read. */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const read = await this.runOnce();
      total += read;
      if (read === 0) return total;
    }
  }

  /** The lowest checkpoint of the runner's projections: every event at or below it is folded. */
  async position(): Promise<number> {
    const rows: { name: string; position: string }[] = await this.dataSource.query(
      `SELECT name, position FROM checkpoints WHERE name = ANY($1::text[])`,
      [[...this.checkpoints.values()]],
    );
    if (rows.length < this.checkpoints.size) return 0;
    return Math.min(...rows.map((r) => Number(r.position)));
  }

  /**
   * Resolves once every projection has folded the event at `position` (for a read-your-writes
   * answer after an append), passing itself; rejects after `timeoutMs`.
   */
  async waitFor(position: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.position()) >= position) return;
      const read = await this.runOnce();
      if ((await this.position()) >= position) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `projections ${[...this.checkpoints.keys()].join(', ')} did not reach position ${position} in ${timeoutMs} ms`,
        );
      }
      if (read === 0) await sleep(Math.min(20, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Deletes the projection's rows, sets its checkpoint to 0 and catches up. Until the catch-up ends,
   * readers see the projection partly rebuilt.
   */
  async rebuild(projectionName: string): Promise<number> {
    const checkpoint = this.checkpoints.get(projectionName);
    if (!checkpoint) throw new Error(`unknown projection ${projectionName}`);
    await this.exclusive(() =>
      inTransaction(this.dataSource, async (qr) => {
        await this.lockCheckpoints(qr);
        await qr.query(`DELETE FROM projection_rows WHERE projection = $1`, [projectionName]);
        await qr.query(`UPDATE checkpoints SET position = 0, updated_at = now() WHERE name = $1`, [
          checkpoint,
        ]);
      }),
    );
    return this.catchUp();
  }

  /** Catches up every `pollMs` until stop(); errors are logged and the loop goes on. */
  start(pollMs = 1000): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let failed = false;
        try {
          await this.catchUp();
        } catch (err) {
          this.logger.error(`projection runner (${[...this.checkpoints.values()].join(', ')}) failed`, err);
          failed = true;
        }
        if (this.running) {
          await this.alarm.pause(failed ? Math.max(pollMs, this.retryDelayMs) : pollMs, {
            ignoreRings: failed,
          });
        }
      }
    })();
  }

  /** Runs the start() loop's next pass now. */
  notify(): void {
    this.alarm.ring();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.alarm.interrupt();
    await this.loop;
    this.loop = null;
    await this.chain;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async pass(delivered: RecordedEvent[] | null): Promise<number> {
    const now = this.clock();
    const pruning = now - this.lastPrune >= this.pruneIntervalMs;
    const read = await inTransaction(this.dataSource, async (qr) => {
      const positions = await this.lockCheckpoints(qr);
      const from = Math.min(...positions.values());
      let events: RecordedEvent[];
      let last: number;
      if (delivered === null && this.eventTypes !== null) {
        ({ events, through: last } = await this.store.readAllOfTypes(from, this.batchSize, this.eventTypes));
      } else {
        events =
          delivered === null
            ? await this.store.readAll(from, this.batchSize)
            : await this.continuing(qr, delivered, from);
        last = events.length > 0 ? events[events.length - 1]!.globalPosition : from;
      }
      if (events.length > 0) await this.fold(qr, events, positions);
      if (last > from) {
        const behind = [...this.checkpoints]
          .filter(([p]) => positions.get(p)! < last)
          .map(([, name]) => name);
        await qr.query(
          `UPDATE checkpoints SET position = $2, updated_at = now() WHERE name = ANY($1::text[])`,
          [behind, last],
        );
      }
      if (pruning) await this.prune(qr, now);
      return events.length;
    });
    if (pruning) this.lastPrune = now;
    return read;
  }

  /** Deletes the rows whose expiry is at or before `now` (Projection.expiresAt). */
  private async prune(qr: QueryRunner, now: number): Promise<void> {
    const expiring = this.projections.filter((p) => p.expiresAt).map((p) => p.name);
    if (expiring.length === 0) return;
    await qr.query(`DELETE FROM projection_rows WHERE projection = ANY($1::text[]) AND expires_at <= $2`, [
      expiring,
      new Date(now),
    ]);
  }

  /** Locks the runner's checkpoint rows in name order (creating them at 0); positions by projection. */
  private async lockCheckpoints(qr: QueryRunner): Promise<Map<string, number>> {
    const names = [...this.checkpoints.values()].sort();
    const lock = (): Promise<{ name: string; position: string }[]> =>
      qr.query(
        `SELECT name, position FROM checkpoints WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
        [names],
      );
    let rows = await lock();
    if (rows.length < names.length) {
      await qr.query(
        `INSERT INTO checkpoints (name, position) SELECT unnest($1::text[]), 0 ON CONFLICT (name) DO NOTHING`,
        [names],
      );
      rows = await lock();
    }
    const byName = new Map(rows.map((r) => [r.name, Number(r.position)]));
    return new Map([...this.checkpoints].map(([projection, name]) => [projection, byName.get(name) ?? 0]));
  }

  private async continuing(
    qr: QueryRunner,
    delivered: RecordedEvent[],
    from: number,
  ): Promise<RecordedEvent[]> {
    const fresh = [
      ...new Map(delivered.filter((e) => e.globalPosition > from).map((e) => [e.globalPosition, e])),
    ]
      .sort(([a], [b]) => a - b)
      .map(([, e]) => e);
    if (fresh.length === 0) return [];
    const [{ stored }] = await qr.query(
      `SELECT count(*) AS stored FROM events WHERE global_position > $1 AND global_position <= $2`,
      [from, fresh[fresh.length - 1]!.globalPosition],
    );
    if (Number(stored) === fresh.length) return fresh;
    return this.store.readAll(from, this.batchSize);
  }

  /** Folds the batch into the rows it touches and writes those that changed (projection-fold.ts). */
  private async fold(
    qr: QueryRunner,
    events: RecordedEvent[],
    checkpoints: Map<string, number>,
  ): Promise<void> {
    const touches = touchesOf(this.projections, events, checkpoints);
    if (touches.length === 0) return;
    const rows = await loadRows(qr, touches);
    evolveRows(rows, touches);
    await writeRows(qr, rows, this.byName, this.clock());
  }
}
