import { createHash } from 'node:crypto';
import { type DataSource, type QueryRunner } from 'typeorm';
import { type EventStore, type RecordedEvent } from './event-store.js';
import { type Projection } from './projection.js';
import { Alarm, consoleLogger, sleep, type RunnerLogger } from './loop.js';
import { type PreparedStatement, preparedStatement, queryPrepared } from './prepared.js';
import { ReadsPerTurn } from './reads-per-turn.js';
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

interface CachedRow {
  doc: unknown;
  /** The doc as stored (JSON), once an event of the pass changed it. */
  json: string | null;
  /** Global position of the last event folded into the row (0: not loaded from an event yet). */
  position: number;
  dirty: boolean;
  /** The row is in projection_rows (loaded at the start of the pass). */
  stored: boolean;
}

/**
 * Folds events into projection rows (table projection_rows) with durable checkpoints (table
 * checkpoints), STYLE.md habit 12. Contracts:
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

  private async fold(
    qr: QueryRunner,
    events: RecordedEvent[],
    checkpoints: Map<string, number>,
  ): Promise<void> {
    const touches: { projection: Projection; key: string; event: RecordedEvent }[] = [];
    for (const event of events) {
      for (const projection of this.projections) {
        if (event.globalPosition <= checkpoints.get(projection.name)!) continue;
        const key = projection.keyOf(event);
        if (key !== null) touches.push({ projection, key, event });
      }
    }
    if (touches.length === 0) return;

    const rows = new Map<string, Map<string, CachedRow>>();
    const firstTouches = new Map<string, (typeof touches)[number]>();
    for (const t of touches) {
      const id = `${t.projection.name}\u0000${t.key}`;
      if (!firstTouches.has(id)) firstTouches.set(id, t);
    }
    const wanted = [...firstTouches.values()]
      .filter((t) => !t.projection.startsRow?.(t.event))
      .map((t) => [t.projection.name, t.key] as const);
    const loaded: { projection: string; key: string; doc: unknown; position: string }[] =
      wanted.length === 0
        ? []
        : await qr.query(
            `SELECT r.projection, r.key, r.doc, r.position FROM projection_rows r
             JOIN unnest($1::text[], $2::text[]) AS t(projection, key) USING (projection, key)`,
            [wanted.map((w) => w[0]), wanted.map((w) => w[1])],
          );
    const rowsOf = (projection: string) => {
      let byKey = rows.get(projection);
      if (!byKey) rows.set(projection, (byKey = new Map()));
      return byKey;
    };
    for (const r of loaded)
      rowsOf(r.projection).set(r.key, {
        doc: r.doc,
        json: null,
        position: Number(r.position),
        dirty: false,
        stored: true,
      });

    for (const { projection, key, event } of touches) {
      const byKey = rowsOf(projection.name);
      const row = byKey.get(key) ?? { doc: null, json: null, position: 0, dirty: false, stored: false };
      byKey.set(key, row);
      if (event.globalPosition <= row.position) continue;
      const next = projection.evolve(row.doc, event);
      // Rows are stored as jsonb: the next event of the batch must see what a later batch would load.
      const json = next === null ? null : JSON.stringify(next);
      if (json === undefined) {
        throw new Error(
          `projection ${projection.name}: evolve returned a non-JSON row for event ${event.eventId}`,
        );
      }
      row.doc = json === null ? null : JSON.parse(json);
      row.json = json;
      row.position = event.globalPosition;
      row.dirty = true;
    }

    // One JSON document for the upsert (jsonb_to_recordset): the docs go in as they were serialised.
    const upserts: string[] = [];
    const deletes: [string, string][] = [];
    const now = this.clock();
    for (const [projection, byKey] of rows) {
      for (const [key, row] of byKey) {
        if (!row.dirty) continue;
        const expiry = row.doc === null ? null : (this.byName.get(projection)!.expiresAt?.(row.doc) ?? null);
        // A row expired already is what the next prune would delete: it is not written (a catch-up
        // over years of expired tokens writes nothing for them, and leaves no dead rows behind).
        if (row.doc === null || row.json === null || (expiry !== null && expiry <= now)) {
          if (row.stored) deletes.push([projection, key]);
        } else {
          upserts.push(
            `{"projection":${JSON.stringify(projection)},"key":${JSON.stringify(key)},"doc":${row.json},` +
              `"position":${row.position},"expires_ms":${expiry !== null && Number.isFinite(expiry) ? Math.trunc(expiry) : 'null'}}`,
          );
        }
      }
    }
    if (upserts.length > 0) {
      await qr.query(
        `INSERT INTO projection_rows (projection, key, doc, position, expires_at)
         SELECT projection, key, doc, position, timestamptz 'epoch' + expires_ms * interval '1 millisecond'
           FROM jsonb_to_recordset($1::jsonb)
           AS t(projection text, key text, doc jsonb, position bigint, expires_ms bigint)
         ON CONFLICT (projection, key) DO UPDATE
           SET doc = EXCLUDED.doc, position = EXCLUDED.position, expires_at = EXCLUDED.expires_at
           WHERE projection_rows.position < EXCLUDED.position`,
        [`[${upserts.join(',')}]`],
      );
    }
    if (deletes.length > 0) {
      await qr.query(
        `DELETE FROM projection_rows r USING unnest($1::text[], $2::text[]) AS t(projection, key)
         WHERE r.projection = t.projection AND r.key = t.key`,
        [deletes.map((d) => d[0]), deletes.map((d) => d[1])],
      );
    }
  }
}

export interface ProjectionRow<Row> {
  key: string;
  row: Row;
  /** Global position of the last event folded into the row. */
  position: number;
}

/** Reads projection rows written by a ProjectionRunner. */
export class ProjectionRows {
  /** At most 256 rows in one statement; more waiting make several. */
  private readonly reads = new ReadsPerTurn<RowRead, RowFound>(256, (reads) => this.readRows(reads));

  constructor(private readonly dataSource: DataSource) {}

  async get<Row>(projection: string, key: string): Promise<Row | null> {
    const [row] = await this.dataSource.query(
      `SELECT doc FROM projection_rows WHERE projection = $1 AND key = $2`,
      [projection, key],
    );
    return row ? (row as { doc: Row }).doc : null;
  }

  /**
   * A row and the current version of each of `streamIds` (0: no event), in one read: a reader that
   * must confirm cached streams are current (EventStore.streamVersions) pays no extra round trip.
   *
   * Reads asked for in the same turn of the event loop (under load, every request that arrived in
   * one socket read) go to Postgres as one statement. Each is still a read made after it was asked
   * for, in one snapshot: nothing is answered from an earlier read.
   */
  getWithStreamVersions<Row>(
    projection: string,
    key: string,
    streamIds: readonly string[],
  ): Promise<{ row: Row | null; versions: Map<string, number> }> {
    return this.reads.ask({ projection, key, streamIds }) as Promise<{
      row: Row | null;
      versions: Map<string, number>;
    }>;
  }

  /** Alone, the one-row statement; together, one statement for all. */
  private async readRows(reads: RowRead[]): Promise<RowFound[]> {
    if (reads.length === 1) {
      const [read] = reads as [RowRead];
      const streams = [...new Set(read.streamIds)];
      const [found] = await queryPrepared<Record<string, unknown>>(
        this.dataSource,
        rowWithVersions(streams.length),
        [read.projection, read.key, ...streams],
      );
      const versions = new Map(read.streamIds.map((id) => [id, 0]));
      streams.forEach((id, i) => versions.set(id, Number(found![`v${i}`] ?? 0)));
      return [{ row: found!.doc ?? null, versions }];
    }
    const streams = [...new Set(reads.flatMap((r) => r.streamIds))];
    const found = await queryPrepared<{
      kind: number;
      projection: string;
      id: string;
      doc: unknown;
      v: string | null;
    }>(this.dataSource, ROWS_WITH_VERSIONS, [
      reads.map((r) => r.projection),
      reads.map((r) => r.key),
      streams,
    ]);
    const docs = new Map<string, unknown>();
    const versionOf = new Map<string, number>();
    for (const f of found) {
      if (f.kind === 0) docs.set(`${f.projection}\u0000${f.id}`, f.doc);
      else versionOf.set(f.id, Number(f.v ?? 0));
    }
    return reads.map((r) => ({
      row: docs.get(`${r.projection}\u0000${r.key}`) ?? null,
      versions: new Map(r.streamIds.map((id) => [id, versionOf.get(id) ?? 0])),
    }));
  }

  /**
   * A row, and the data of an event of type `eventType` in `streamId` if the store holds one (read
   * from the store, not from any projection), in one statement. `eventType` is written into the
   * statement as a literal, so that Postgres can use a partial index on it (e.g.
   * `events_grant_revoked_idx`).
   */
  async getWithEventOfType<Row>(
    projection: string,
    key: string,
    streamId: string,
    eventType: string,
  ): Promise<{ row: Row | null; event: unknown }> {
    const { row, events } = await this.getWithEventsOfTypes<Row>(projection, key, [
      { streamId, type: eventType },
    ]);
    return { row, event: events[0] };
  }

  /**
   * getWithEventOfType() for several (stream, type) pairs: the row, and for each pair the data of
   * such an event if the store holds one (null otherwise), in one statement. A reader uses it for
   * what a projection fed from the event stream cannot hold (data that is not published).
   */
  async getWithEventsOfTypes<Row>(
    projection: string,
    key: string,
    wanted: readonly { streamId: string; type: string }[],
  ): Promise<{ row: Row | null; events: unknown[] }> {
    const [found] = await queryPrepared<Record<string, unknown>>(
      this.dataSource,
      rowWithEventsOfTypes(wanted.map((w) => w.type)),
      [projection, key, ...wanted.map((w) => w.streamId)],
    );
    return {
      row: (found?.doc as Row | undefined) ?? null,
      events: wanted.map((_, i) => found?.[`e${i}`] ?? null),
    };
  }

  /** One page of rows with keys after `after`, ordered by key (byte order). */
  async page<Row>(
    projection: string,
    after: string | undefined,
    limit: number,
  ): Promise<ProjectionRow<Row>[]> {
    const rows: { key: string; doc: Row; position: string }[] = await this.dataSource.query(
      `SELECT key, doc, position FROM projection_rows WHERE projection = $1 AND key COLLATE "C" > $2
       ORDER BY key COLLATE "C" LIMIT $3`,
      [projection, after ?? '', limit],
    );
    return rows.map((r) => ({ key: r.key, row: r.doc, position: Number(r.position) }));
  }

  /** Every row of the projection, ordered by key (byte order, whatever the database collation). */
  async all<Row>(projection: string): Promise<ProjectionRow<Row>[]> {
    const rows: { key: string; doc: Row; position: string }[] = await this.dataSource.query(
      `SELECT key, doc, position FROM projection_rows WHERE projection = $1 ORDER BY key COLLATE "C"`,
      [projection],
    );
    return rows.map((r) => ({ key: r.key, row: r.doc, position: Number(r.position) }));
  }
}

interface RowRead {
  projection: string;
  key: string;
  streamIds: readonly string[];
}

interface RowFound {
  row: unknown;
  versions: Map<string, number>;
}

/** The rows (kind 0) of (projection, key) pairs, then each stream's top version (kind 1). */
const ROWS_WITH_VERSIONS = preparedStatement(
  'projection-rows-with-versions',
  `SELECT 0 AS kind, p.projection, p.key AS id, p.doc, NULL::bigint AS v
     FROM unnest($1::text[], $2::text[]) AS k(projection, key)
     JOIN projection_rows p ON p.projection = k.projection AND p.key = k.key
   UNION ALL
   SELECT 1, NULL, s.id, NULL,
          (SELECT stream_version FROM events WHERE stream_id = s.id ORDER BY stream_version DESC LIMIT 1)
     FROM unnest($3::text[]) AS s(id)`,
);

const rowWithEventStatements = new Map<string, PreparedStatement>();

/** ProjectionRows.getWithEventsOfTypes: the row, then the data of the i-th type in stream $(i + 3). */
function rowWithEventsOfTypes(eventTypes: readonly string[]): PreparedStatement {
  // Postgres truncates statement names past 63 bytes (NAMEDATALEN - 1): a digest keeps them apart.
  const name = `projection-row-with-${createHash('sha256').update(eventTypes.join('\n')).digest('base64url').slice(0, 22)}`;
  let statement = rowWithEventStatements.get(name);
  if (statement === undefined) {
    for (const eventType of eventTypes) {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(eventType)) throw new Error(`not an event type: ${eventType}`);
    }
    const events = eventTypes.map(
      (eventType, i) =>
        `(SELECT data FROM events WHERE stream_id = $${i + 3} AND type = '${eventType}' LIMIT 1) AS e${i}`,
    );
    statement = preparedStatement(
      name,
      [`SELECT (SELECT doc FROM projection_rows WHERE projection = $1 AND key = $2) AS doc`, ...events].join(
        ',\n  ',
      ),
    );
    rowWithEventStatements.set(name, statement);
  }
  return statement;
}

const rowWithVersionsStatements = new Map<number, PreparedStatement>();

/** ProjectionRows.getWithStreamVersions for n streams: the row, then each stream's top version. */
function rowWithVersions(n: number): PreparedStatement {
  let statement = rowWithVersionsStatements.get(n);
  if (statement === undefined) {
    const versions = Array.from(
      { length: n },
      (_, i) =>
        `(SELECT stream_version FROM events WHERE stream_id = $${i + 3}
          ORDER BY stream_version DESC LIMIT 1) AS v${i}`,
    );
    statement = preparedStatement(
      `projection-row-with-${n}-versions`,
      [
        `SELECT (SELECT doc FROM projection_rows WHERE projection = $1 AND key = $2) AS doc`,
        ...versions,
      ].join(',\n  '),
    );
    rowWithVersionsStatements.set(n, statement);
  }
  return statement;
}
