import { type DataSource } from 'typeorm';
import { type RecordedEvent } from './event-store.js';

/** Which events an audit page holds: those matching any of the criteria, within the bounds. */
export interface AuditQuery {
  /** Events of these streams. */
  streamIds?: string[];
  /** Events whose `data[field]` equals `value` (e.g. every event naming a client). */
  dataEquals?: { field: string; value: string };
  /** Events whose data has every one of these fields equal to the value given, outside the streams excluded. */
  dataAll?: { fields: Record<string, string>; excludeStreamPrefixes?: string[] };
  /**
   * Events of the streams named by other events: for each event whose `data[field]` is `value` and
   * whose type is listed, the stream `prefix + data[idField]` (e.g. the grant and access-token
   * streams a user's AuthorizationCodeIssued and AccessTokenIssued start). Looked up first, by
   * index, so that the page query is a union of index scans.
   */
  streamsNamedBy?: {
    field: string;
    value: string;
    streams: { type: string; prefix: string; idField: string }[];
  };
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

/** A data field name, inlined in SQL so that the expression indexes (data->>'clientId', …) apply. */
const FIELD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
function field(name: string): string {
  if (!FIELD.test(name)) throw new Error(`not an audit field name: ${name}`);
  return `'${name}'`;
}

/**
 * Reads pages of history across streams for the audit API, in global order (indexes
 * events_data_client_id_idx, events_data_grant_id_idx, events_data_sub_idx and events_actor_idx
 * serve the criteria; `data ? field` lets the partial indexes apply).
 */
export class PgAuditLog {
  constructor(private readonly dataSource: DataSource) {}

  async query(q: AuditQuery): Promise<AuditPage> {
    const sql = await this.sql(q);
    if (sql === null) return { events: [], next: null };
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
    }[] = await this.dataSource.query(sql.text, sql.params);
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

  /** The page query's plan (EXPLAIN), to check that the criteria are served by indexes. */
  async explain(q: AuditQuery): Promise<string> {
    const sql = await this.sql(q);
    if (sql === null) return '';
    const rows: { 'QUERY PLAN': string }[] = await this.dataSource.query(`EXPLAIN ${sql.text}`, sql.params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  private async sql(q: AuditQuery): Promise<{ text: string; params: unknown[] } | null> {
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const any: string[] = [];
    const streamIds = [...new Set([...(q.streamIds ?? []), ...(await this.namedStreams(q.streamsNamedBy))])];
    if (streamIds.length > 0) any.push(`stream_id = ANY(${p(streamIds)}::text[])`);
    if (q.dataEquals) {
      const f = field(q.dataEquals.field);
      any.push(`(data ? ${f} AND data->>${f} = ${p(q.dataEquals.value)})`);
    }
    if (q.dataAll) {
      const all = Object.entries(q.dataAll.fields).map(
        ([name, value]) => `data ? ${field(name)} AND data->>${field(name)} = ${p(value)}`,
      );
      for (const prefix of q.dataAll.excludeStreamPrefixes ?? []) {
        all.push(`NOT starts_with(stream_id, ${p(prefix)})`);
      }
      if (all.length > 0) any.push(`(${all.join(' AND ')})`);
    }
    if (q.actor !== undefined) any.push(`metadata->>'actor' = ${p(q.actor)}`);
    if (any.length === 0) return null;
    const where = [`(${any.join(' OR ')})`, `global_position > ${p(q.after ?? 0)}`];
    if (q.from) where.push(`recorded_at >= ${p(q.from)}`);
    if (q.to) where.push(`recorded_at <= ${p(q.to)}`);
    return {
      text: `SELECT global_position, event_id, stream_id, stream_version, type, schema_version, data, metadata,
         recorded_at
       FROM events WHERE ${where.join(' AND ')} ORDER BY global_position LIMIT ${p(q.limit + 1)}`,
      params,
    };
  }

  private async namedStreams(by: AuditQuery['streamsNamedBy']): Promise<string[]> {
    if (!by || by.streams.length === 0) return [];
    const f = field(by.field);
    const params: unknown[] = [by.value, by.streams.map((s) => s.type)];
    const cases = by.streams.map((s) => {
      params.push(s.type, s.prefix);
      return `WHEN $${params.length - 1}::text THEN $${params.length}::text || (data->>${field(s.idField)})`;
    });
    const rows: { stream_id: string | null }[] = await this.dataSource.query(
      `SELECT DISTINCT CASE type ${cases.join(' ')} END AS stream_id FROM events
       WHERE data ? ${f} AND data->>${f} = $1 AND type = ANY($2::text[])`,
      params,
    );
    return rows.flatMap((r) => (r.stream_id === null ? [] : [r.stream_id]));
  }
}
