import { type DataSource } from 'typeorm';
import {
  type AppendManyOptions,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamEventQuery,
  type StreamSnapshot,
  type TypedPage,
} from './event-store.js';
import { GroupCommit, type GroupCommitStats } from './group-commit.js';
import { writeAppendBatch } from './pg-append.js';
import { prepareAppend, prepareExpectations } from './prepare-append.js';
import { queryPrepared } from './prepared.js';
import { pgStreamHasEvent, readPgSnapshot, savePgSnapshot } from './pg-snapshots.js';
import {
  HEAD_POSITION,
  READ_ALL,
  READ_ALL_OF_TYPES,
  READ_STREAM_PAGE,
  READ_STREAMS,
  readStreamStatement,
  STREAM_VERSIONS,
  toRecordedEvent,
  type EventRow,
} from './pg-statements.js';
import { ReadsPerTurn } from './reads-per-turn.js';

export interface PgEventStoreOptions {
  /** Most appends written in one transaction (default 500). */
  maxBatchSize?: number;
}

interface StreamRead {
  streamId: string;
  fromVersion: number;
}

/**
 * The EventStore on Postgres through a TypeORM DataSource (raw SQL, schema from migrations only).
 *
 * Group commit (group-commit.ts): concurrent appends queue while a transaction is in flight, then up
 * to `maxBatchSize` of them are written in one transaction (one WAL flush for all). Each append
 * still succeeds or fails on its own, and its promise settles only after COMMIT. The transaction
 * (pg-append.ts) checks versions under APPEND_LOCK_KEY, writes the batch in one INSERT chained from
 * the hash-chain tip, and falls back to one SAVEPOINT per append when that INSERT fails on a
 * constraint or a data error.
 * A failed transaction (connection lost, Postgres down) rejects every append in the batch with its
 * error. When it is the COMMIT that failed the outcome is unknown: retrying with the same numeric
 * expected version is safe (it conflicts if the first try committed); retrying an 'any' append is not.
 */
export class PgEventStore implements EventStore {
  private readonly appends: GroupCommit;
  /** At most 256 streams in one statement; more waiting make several. */
  private readonly streamReads = new ReadsPerTurn<StreamRead, RecordedEvent[]>(256, (reads) =>
    this.readStreams(reads),
  );

  constructor(
    private readonly dataSource: DataSource,
    options: PgEventStoreOptions = {},
  ) {
    this.appends = new GroupCommit(Math.max(1, options.maxBatchSize ?? 500), (jobs) =>
      writeAppendBatch(this.dataSource, jobs),
    );
  }

  async appendToStream(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
  ): Promise<AppendResult> {
    const [result] = await this.appends.enqueue([prepareAppend(streamId, expectedVersion, events)], []);
    return result!;
  }

  async appendMany(requests: AppendRequest[], options: AppendManyOptions = {}): Promise<AppendResult[]> {
    const appends = requests.map((r) => prepareAppend(r.streamId, r.expectedVersion, r.events));
    const expect = prepareExpectations(options.expect);
    if (appends.length === 0) return [];
    return this.appends.enqueue(appends, expect);
  }

  /**
   * Plain reads (no `orElse`, no `upTo`) asked for in the same turn of the event loop go to Postgres
   * as one statement (ReadsPerTurn); each is still a read made after it was asked for (an append that
   * resolved before it is in it). A read alone, and every other variant, is its own statement.
   */
  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    if (options.limit !== undefined && options.orElse === undefined && options.upTo === undefined) {
      const rows = await queryPrepared<EventRow>(this.dataSource, READ_STREAM_PAGE, [
        streamId,
        options.fromVersion ?? 1,
        options.limit,
      ]);
      return rows.map(toRecordedEvent);
    }
    if (options.orElse === undefined && options.upTo === undefined) {
      return this.streamReads.ask({ streamId, fromVersion: options.fromVersion ?? 1 });
    }
    return this.readStreamAlone(streamId, options);
  }

  private async readStreams(reads: StreamRead[]): Promise<RecordedEvent[][]> {
    if (reads.length === 1) return [await this.readStreamAlone(reads[0]!.streamId, reads[0]!)];
    const rows = await queryPrepared<EventRow & { i: string }>(this.dataSource, READ_STREAMS, [
      reads.map((r) => r.streamId),
      reads.map((r) => r.fromVersion),
    ]);
    const byRead = reads.map(() => [] as RecordedEvent[]);
    for (const row of rows) byRead[Number(row.i) - 1]!.push(toRecordedEvent(row));
    return byRead.map((events) => events.sort((a, b) => a.streamVersion - b.streamVersion));
  }

  private async readStreamAlone(streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const params: unknown[] = [streamId, options.fromVersion ?? 1];
    if (options.orElse !== undefined) params.push(options.orElse);
    if (options.upTo !== undefined) params.push(options.upTo);
    const statement = readStreamStatement(options.orElse !== undefined, options.upTo !== undefined);
    const rows = await queryPrepared<EventRow>(this.dataSource, statement, params);
    return rows.map(toRecordedEvent);
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(READ_ALL, [after, limit]);
    return rows.map(toRecordedEvent);
  }

  async readAllOfTypes(after: number, limit: number, types: readonly string[]): Promise<TypedPage> {
    // Positions grow in commit order (APPEND_LOCK_KEY): every event at or below the head read
    // first is committed and visible to the next statement.
    const head = await this.headPosition();
    if (head <= after) return { events: [], through: after };
    const rows: EventRow[] = await this.dataSource.query(READ_ALL_OF_TYPES, [after, head, types, limit]);
    const events = rows.map(toRecordedEvent);
    return { events, through: events.length === limit ? events[events.length - 1]!.globalPosition : head };
  }

  async headPosition(): Promise<number> {
    const [row] = await this.dataSource.query(HEAD_POSITION);
    return Number((row as { head: string }).head);
  }

  async streamVersions(streamIds: readonly string[]): Promise<Map<string, number>> {
    const versions = new Map(streamIds.map((id) => [id, 0]));
    if (versions.size === 0) return versions;
    const rows: { stream_id: string; version: number }[] = await this.dataSource.query(STREAM_VERSIONS, [
      [...versions.keys()],
    ]);
    for (const r of rows) versions.set(r.stream_id, r.version);
    return versions;
  }

  readSnapshot(streamId: string, schema: string): Promise<StreamSnapshot | null> {
    return readPgSnapshot(this.dataSource, streamId, schema);
  }

  saveSnapshot(snapshot: StreamSnapshot): Promise<void> {
    return savePgSnapshot(this.dataSource, snapshot);
  }

  streamHasEvent(streamId: string, query: StreamEventQuery): Promise<boolean> {
    return pgStreamHasEvent(this.dataSource, streamId, query);
  }

  stats(): GroupCommitStats {
    return this.appends.stats();
  }

  /** Resolves once every append queued so far has settled (for an orderly shutdown). */
  drain(): Promise<void> {
    return this.appends.drain();
  }
}
