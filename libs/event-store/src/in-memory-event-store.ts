import { timeOrderedId } from './time-ordered-id.js';
import {
  ExpectedVersionConflict,
  type AppendManyOptions,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamEventQuery,
  type StreamExpectation,
  type StreamSnapshot,
  type TypedPage,
} from './event-store.js';
import { prepareAppend, prepareExpectations, type PreparedAppend } from './prepare-append.js';

/**
 * The EventStore contract held in one process's memory, for unit tests and deciders' given/when/then.
 * Data and metadata go through JSON on the way in, so what comes back is what Postgres jsonb would
 * give back.
 */
export class InMemoryEventStore implements EventStore {
  private readonly log: RecordedEvent[] = [];
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly snapshots = new Map<string, StreamSnapshot>();
  private lastRecordedAt = 0;

  async appendToStream(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
  ): Promise<AppendResult> {
    const append = prepareAppend(streamId, expectedVersion, events);
    this.check([append], []);
    return this.write(append, this.now());
  }

  async appendMany(requests: AppendRequest[], options: AppendManyOptions = {}): Promise<AppendResult[]> {
    const appends = requests.map((r) => prepareAppend(r.streamId, r.expectedVersion, r.events));
    this.check(appends, prepareExpectations(options.expect));
    const now = this.now();
    return appends.map((a) => this.write(a, now));
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const fromVersion = options.fromVersion ?? 1;
    const upTo = options.upTo?.getTime();
    const stream = this.streams.get(streamId) ?? this.streams.get(options.orElse ?? streamId);
    return (stream ?? [])
      .filter((e) => e.streamVersion >= fromVersion && (upTo === undefined || e.recordedAt.getTime() <= upTo))
      .slice(0, options.limit ?? Infinity)
      .map(copy);
  }

  async readAllOfTypes(after: number, limit: number, types: readonly string[]): Promise<TypedPage> {
    const wanted = new Set(types);
    const events: RecordedEvent[] = [];
    let through = after;
    for (const e of this.log) {
      if (e.globalPosition <= after) continue;
      if (wanted.has(e.type)) {
        if (events.length >= limit) break;
        events.push(copy(e));
      }
      through = e.globalPosition;
    }
    return { events, through };
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for (const e of this.log) {
      if (out.length >= limit) break;
      if (e.globalPosition > after) out.push(copy(e));
    }
    return out;
  }

  async headPosition(): Promise<number> {
    return this.log.length;
  }

  async streamVersions(streamIds: readonly string[]): Promise<Map<string, number>> {
    return new Map(streamIds.map((id) => [id, this.streams.get(id)?.length ?? 0]));
  }

  async readSnapshot(streamId: string, schema: string): Promise<StreamSnapshot | null> {
    const kept = this.snapshots.get(streamId);
    return kept === undefined || kept.schema !== schema ? null : structuredClone(kept);
  }

  async saveSnapshot(snapshot: StreamSnapshot): Promise<void> {
    const kept = this.snapshots.get(snapshot.streamId);
    if (kept !== undefined && kept.schema === snapshot.schema && kept.version >= snapshot.version) return;
    this.snapshots.set(snapshot.streamId, JSON.parse(JSON.stringify(snapshot)) as StreamSnapshot);
  }

  async streamHasEvent(streamId: string, query: StreamEventQuery): Promise<boolean> {
    return (this.streams.get(streamId) ?? []).some(
      (e) =>
        query.types.includes(e.type) && (e.data as Record<string, unknown>)?.[query.field] === query.equals,
    );
  }

  /** All or nothing: later appends in the list see the versions the earlier ones would write. */
  private check(appends: PreparedAppend[], expect: StreamExpectation[]): void {
    for (const x of expect) {
      const current = this.streams.get(x.streamId)?.length ?? 0;
      if (current !== x.version) throw new ExpectedVersionConflict(x.streamId, x.version, current);
    }
    const versions = new Map<string, number>();
    for (const a of appends) {
      const current = versions.get(a.streamId) ?? this.streams.get(a.streamId)?.length ?? 0;
      if (a.expectedVersion !== 'any' && a.expectedVersion !== current) {
        throw new ExpectedVersionConflict(a.streamId, a.expectedVersion, current);
      }
      versions.set(a.streamId, current + a.events.length);
    }
  }

  private write(append: PreparedAppend, recordedAt: Date): AppendResult {
    const stream = this.streams.get(append.streamId) ?? [];
    this.streams.set(append.streamId, stream);
    const written = append.events.map((e): RecordedEvent => {
      const recorded: RecordedEvent = {
        eventId: timeOrderedId(),
        globalPosition: this.log.length + 1,
        streamId: append.streamId,
        streamVersion: stream.length + 1,
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: e.metadata,
        recordedAt,
      };
      this.log.push(recorded);
      stream.push(recorded);
      return recorded;
    });
    return {
      streamId: append.streamId,
      nextExpectedVersion: stream.length,
      lastGlobalPosition: written[written.length - 1]!.globalPosition,
      events: written.map(copy),
    };
  }

  /** recorded_at never goes backwards along global positions, as in PgEventStore. */
  private now(): Date {
    this.lastRecordedAt = Math.max(this.lastRecordedAt, Date.now());
    return new Date(this.lastRecordedAt);
  }
}

function copy(e: RecordedEvent): RecordedEvent {
  return {
    ...e,
    data: structuredClone(e.data),
    metadata: structuredClone(e.metadata),
    recordedAt: new Date(e.recordedAt),
  };
}
