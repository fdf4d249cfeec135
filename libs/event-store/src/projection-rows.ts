import { createHash } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { type PreparedStatement, preparedStatement, queryPrepared } from './prepared.js';
import { ReadsPerTurn } from './reads-per-turn.js';

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

  /**
   * The rows whose `doc[field]`, an ISO-8601 instant in UTC (which sorts as text), is at or before
   * `upTo`, earliest first, at most `limit`: work that is due; and the earliest `doc[field]` after
   * `upTo`, when the next work falls due (null: no row waits), read in the same statement.
   */
  async dueBy<Row>(
    projection: string,
    field: string,
    upTo: Date,
    limit: number,
  ): Promise<{ rows: Row[]; next: Date | null }> {
    const found: { doc: Row | null; due: string }[] = await this.dataSource.query(
      `(SELECT doc, doc->>$2 COLLATE "C" AS due FROM projection_rows
         WHERE projection = $1 AND doc->>$2 COLLATE "C" <= $3 ORDER BY doc->>$2 COLLATE "C" LIMIT $4)
       UNION ALL
       (SELECT NULL, doc->>$2 COLLATE "C" FROM projection_rows
         WHERE projection = $1 AND doc->>$2 COLLATE "C" > $3 ORDER BY doc->>$2 COLLATE "C" LIMIT 1)
       ORDER BY due`,
      [projection, field, upTo.toISOString(), limit],
    );
    const next = found.find((r) => r.doc === null);
    return {
      rows: found.flatMap((r) => (r.doc === null ? [] : [r.doc])),
      next: next ? new Date(next.due) : null,
    };
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
