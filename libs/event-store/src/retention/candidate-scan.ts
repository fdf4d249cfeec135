import { type DataSource } from 'typeorm';
import { type RecordedEvent } from '../event-store.js';
import { EVENT_COLUMNS, type EventRow, toRecordedEvent } from '../pg-statements.js';

/**
 * How `retention run` finds candidate streams: by the position of their first event, from a cursor
 * kept between runs (`retention_scan`), up to the last position old enough to hold a closed stream.
 */

/** Last position recorded before `cutoff` (recorded_at never decreases along global order). */
const POSITION_BEFORE = `SELECT coalesce(max(global_position), 0) AS p FROM events
  WHERE recorded_at < $1 AND recorded_at >= (SELECT max(recorded_at) FROM events WHERE recorded_at < $1)`;

/** Streams by the position of their first event (index events_stream_start_idx). */
export const RETENTION_CANDIDATES = `SELECT global_position, stream_id FROM events
  WHERE stream_version = 1 AND global_position > $1 AND global_position <= $2 AND stream_id LIKE ANY($3::text[])
  ORDER BY global_position LIMIT $4`;

const STREAMS_EVENTS = `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY global_position`;

/** The last position a closed stream may start at (`cutoff`), and the chain's head. */
export async function scanBounds(
  dataSource: DataSource,
  cutoff: Date,
): Promise<{ bound: number; head: number }> {
  const [{ p }] = (await dataSource.query(POSITION_BEFORE, [cutoff])) as { p: string }[];
  const [{ head }] = (await dataSource.query(
    `SELECT coalesce(max(global_position), 0) AS head FROM events`,
  )) as { head: string }[];
  return { bound: Number(p), head: Number(head) };
}

/** The scan cursor's row in `retention_scan` (migration 1796200000000). */
const SCAN = 'closed-streams';

export async function scanCursor(dataSource: DataSource): Promise<number> {
  const rows = (await dataSource.query(`SELECT after_position FROM retention_scan WHERE name = $1`, [
    SCAN,
  ])) as { after_position: string }[];
  return rows.length === 0 ? 0 : Number(rows[0]!.after_position);
}

export async function saveScanCursor(dataSource: DataSource, after: number, at: Date): Promise<void> {
  await dataSource.query(
    `INSERT INTO retention_scan (name, after_position, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET after_position = EXCLUDED.after_position, updated_at = EXCLUDED.updated_at`,
    [SCAN, after, at],
  );
}

/** One page of candidate streams after `after` up to `upTo`, each with its events. */
export async function candidatePage(
  dataSource: DataSource,
  page: { after: number; upTo: number; prefixes: string[]; pageSize: number },
): Promise<{
  rows: { global_position: string; stream_id: string }[];
  byStream: Map<string, RecordedEvent[]>;
}> {
  const rows = (await dataSource.query(RETENTION_CANDIDATES, [
    page.after,
    page.upTo,
    page.prefixes,
    page.pageSize,
  ])) as { global_position: string; stream_id: string }[];
  const byStream = new Map<string, RecordedEvent[]>();
  if (rows.length === 0) return { rows, byStream };
  const events = (await dataSource.query(STREAMS_EVENTS, [rows.map((r) => r.stream_id)])) as EventRow[];
  for (const e of events.map(toRecordedEvent)) {
    const list = byStream.get(e.streamId);
    if (list) list.push(e);
    else byStream.set(e.streamId, [e]);
  }
  return { rows, byStream };
}
