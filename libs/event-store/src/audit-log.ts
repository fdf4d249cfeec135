import { type DataSource } from 'typeorm';
import { type RecordedEvent } from './event-store.js';

/** Which events an audit page holds: those matching any of the criteria, within the bounds. */
export interface AuditQuery {
  /** Events of these streams. */
  streamIds?: string[];
  /** Events whose `data[field]` equals `value` (e.g. every event naming a client). */
  dataEquals?: { field: string; value: string };
  /** Events whose `metadata.actor` is this. */
  actor?: string;
  /** Only events with a global position above this one (the cursor of the previous page). */
  after?: number;
  /** Only events recorded at or after / at or before these instants. */
  from?: Date;
  to?: Date;
  limit: number;
}

export interface AuditPage {
  events: RecordedEvent[];
  /** The `after` of the next page, or null when this page is the last. */
  next: number | null;
}

/**
 * Reads pages of history across streams for the audit API, in global order (indexes
 * events_data_client_id_idx and events_actor_idx serve the per-client criteria).
 */
export class PgAuditLog {
  constructor(private readonly dataSource: DataSource) {}

  async query(q: AuditQuery): Promise<AuditPage> {
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const any: string[] = [];
    if (q.streamIds?.length) any.push(`stream_id = ANY(${p(q.streamIds)}::text[])`);
    if (q.dataEquals) {
      any.push(`data->>${p(q.dataEquals.field)} = ${p(q.dataEquals.value)}`);
    }
    if (q.actor !== undefined) any.push(`metadata->>'actor' = ${p(q.actor)}`);
    if (any.length === 0) return { events: [], next: null };
    const where = [`(${any.join(' OR ')})`, `global_position > ${p(q.after ?? 0)}`];
    if (q.from) where.push(`recorded_at >= ${p(q.from)}`);
    if (q.to) where.push(`recorded_at <= ${p(q.to)}`);
    const rows: {
      global_position: string;
      event_id: string;
      stream_id: string;
      stream_version: number;
      type: string;
      schema_version: number;
      data: unknown;
      metadata: Record<string, string>;
      recorded_at: Date;
    }[] = await this.dataSource.query(
      `SELECT global_position, event_id, stream_id, stream_version, type, schema_version, data, metadata,
         recorded_at
       FROM events WHERE ${where.join(' AND ')} ORDER BY global_position LIMIT ${p(q.limit + 1)}`,
      params,
    );
    const events = rows.slice(0, q.limit).map((r): RecordedEvent => ({
      eventId: r.event_id,
      globalPosition: Number(r.global_position),
      streamId: r.stream_id,
      streamVersion: r.stream_version,
      type: r.type,
      schemaVersion: r.schema_version,
      data: r.data,
      metadata: r.metadata,
      recordedAt: r.recorded_at,
    }));
    return {
      events,
      next: rows.length > q.limit ? events[events.length - 1]!.globalPosition : null,
    };
  }
}
