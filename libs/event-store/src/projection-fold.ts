import { type QueryRunner } from 'typeorm';
import { type RecordedEvent } from './event-store.js';
import { type Projection } from './projection.js';

/**
 * The steps of one ProjectionRunner pass over a batch of events, inside its transaction: which rows
 * the events touch, loading those rows, folding the events into them, and writing what changed.
 */

/** An event that changes one projection's row. */
export interface Touch {
  projection: Projection;
  key: string;
  event: RecordedEvent;
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

/** The rows of a pass, by projection name then key. */
export type PassRows = Map<string, Map<string, CachedRow>>;

/**
 * Every (projection, row) each event touches, in event order: events at or below a projection's
 * checkpoint are skipped for that projection.
 */
export function touchesOf(
  projections: readonly Projection[],
  events: readonly RecordedEvent[],
  checkpoints: Map<string, number>,
): Touch[] {
  const touches: Touch[] = [];
  for (const event of events) {
    for (const projection of projections) {
      if (event.globalPosition <= checkpoints.get(projection.name)!) continue;
      const key = projection.keyOf(event);
      if (key !== null) touches.push({ projection, key, event });
    }
  }
  return touches;
}

/**
 * Loads the stored rows the touches need, in one statement. A row whose first touch starts it
 * (Projection.startsRow) is not read: that event replaces whatever was stored.
 */
export async function loadRows(qr: QueryRunner, touches: readonly Touch[]): Promise<PassRows> {
  const firstTouches = new Map<string, Touch>();
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
  const rows: PassRows = new Map();
  for (const r of loaded)
    rowsOf(rows, r.projection).set(r.key, {
      doc: r.doc,
      json: null,
      position: Number(r.position),
      dirty: false,
      stored: true,
    });
  return rows;
}

/**
 * Folds each touch's event into its row (Projection.evolve), skipping an event at or below the
 * position stored on the row, so that redelivery changes nothing.
 */
export function evolveRows(rows: PassRows, touches: readonly Touch[]): void {
  for (const { projection, key, event } of touches) {
    const byKey = rowsOf(rows, projection.name);
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
}

/**
 * Writes the rows the pass changed: one upsert for those that hold a doc, one delete for those
 * folded to null or already expired at `now` (Projection.expiresAt) that were stored.
 */
export async function writeRows(
  qr: QueryRunner,
  rows: PassRows,
  byName: ReadonlyMap<string, Projection>,
  now: number,
): Promise<void> {
  const { upserts, deletes } = changesOf(rows, byName, now);
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

/**
 * The upserts, as the JSON objects of one document (jsonb_to_recordset: the docs go in as they
 * were serialised), and the (projection, key) pairs to delete.
 */
function changesOf(
  rows: PassRows,
  byName: ReadonlyMap<string, Projection>,
  now: number,
): { upserts: string[]; deletes: [string, string][] } {
  const upserts: string[] = [];
  const deletes: [string, string][] = [];
  for (const [projection, byKey] of rows) {
    for (const [key, row] of byKey) {
      if (!row.dirty) continue;
      const expiry = row.doc === null ? null : (byName.get(projection)!.expiresAt?.(row.doc) ?? null);
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
  return { upserts, deletes };
}

function rowsOf(rows: PassRows, projection: string): Map<string, CachedRow> {
  let byKey = rows.get(projection);
  if (!byKey) rows.set(projection, (byKey = new Map()));
  return byKey;
}
