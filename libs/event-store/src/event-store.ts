/**
 * The event store port (STYLE.md habit 8). Contracts every implementation keeps, checked by
 * `describeEventStoreContract` against the in-memory and the Postgres store:
 * - a stream's versions are 1, 2, 3, … with no gap; `expectedVersion` is the version the caller
 *   last saw (0: the stream must not exist yet);
 * - an append whose expected version is not the stream's current version fails with
 *   ExpectedVersionConflict and writes nothing; of two racing appends at the same expected version
 *   exactly one wins, decided by the store's unique (stream_id, stream_version), not by a read;
 * - an appendMany with `expect` preconditions writes only if every named stream is at the given
 *   version when the append is checked (under the same lock and in the same order as the expected
 *   versions); otherwise it fails with ExpectedVersionConflict for that stream and writes nothing;
 * - global positions grow in commit order: a reader of `readAll(after)` never sees position p and
 *   later a smaller one;
 * - events are never updated or deleted.
 */

import { foldEvents, type StreamFold } from './upcasters.js';

export interface EventMetadata {
  /** The request or flow this event belongs to: an id the server made, never the caller's. */
  correlationId?: string;
  /**
   * The caller's own request id (X-Correlation-Id / X-Request-Id), as sent: untrusted, to match the
   * caller's logs only; two events sharing it need not belong together.
   */
  callerRequestId?: string;
  /** The event or command id that caused this event. */
  causationId?: string;
  /** Who did it: `client:<id>`, `user:<sub>`, `admin`, `system:<service>`. */
  actor?: string;
}

export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  metadata?: EventMetadata;
  /** message_schema_version (STYLE.md habit 2); 1 unless the event type's schema changed. */
  schemaVersion?: number;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> {
  /** uuid; the JetStream message id (Nats-Msg-Id) when relayed. */
  eventId: string;
  globalPosition: number;
  streamId: string;
  streamVersion: number;
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: EventMetadata;
  recordedAt: Date;
  /** Hash-chain link (hex), set by stores that keep the chain (PgEventStore); see hash-chain.ts. */
  prevHash?: string | null;
  /** SHA-256 over prevHash and this event (hex); null on events recorded before the chain. */
  hash?: string | null;
}

/** A page of readAllOfTypes. */
export interface TypedPage {
  events: RecordedEvent[];
  /** Highest position covered by the read (>= the last event's; `after` when nothing was there). */
  through: number;
}

/** A number: the stream must be exactly at that version (0 = must not exist). */
export type ExpectedVersion = number | 'any';

export interface AppendRequest {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: NewEvent[];
}

export interface AppendResult {
  streamId: string;
  /** The stream's version after the append: pass it as expectedVersion next time. */
  nextExpectedVersion: number;
  /** Global position of the last event written. */
  lastGlobalPosition: number;
  events: RecordedEvent[];
}

/**
 * A precondition on a stream the append does not write to: it must be exactly at `version`
 * (0 = no event). Lets a decision taken on a cached read of that stream commit only if the stream
 * has not moved since (e.g. the token endpoint's client, read from the token service's cache).
 */
export interface StreamExpectation {
  streamId: string;
  version: number;
}

export interface AppendManyOptions {
  /** Checked with the append's own expected versions, atomically; see StreamExpectation. */
  expect?: readonly StreamExpectation[];
}

export interface ReadStreamOptions {
  /** Only events with streamVersion >= fromVersion (default 1). */
  fromVersion?: number;
  /** At most this many events (the first ones from `fromVersion`); not with `upTo` or `orElse`. */
  limit?: number;
  /** Only events recorded at or before this instant ("as of" queries). */
  upTo?: Date;
  /**
   * A decoy: when the stream has no event at all, the events of this stream instead, chosen by the
   * same query, so that looking up an absent stream costs what a present one does (OAuth
   * 2.1 §7.7: an unknown client must not answer faster). Tell them apart by `streamId`.
   */
  orElse?: string;
}

export interface EventStore {
  /**
   * Appends to one stream. Implementations may group concurrent calls into one database
   * transaction (group commit); each call still succeeds or fails on its own.
   */
  appendToStream(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
  ): Promise<AppendResult>;
  /**
   * Appends to several streams atomically: all requests are written, or none (first conflict
   * throws). A failed `expect` precondition throws ExpectedVersionConflict for the expected stream.
   */
  appendMany(requests: AppendRequest[], options?: AppendManyOptions): Promise<AppendResult[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events with globalPosition > after, in global order, at most `limit`. */
  readAll(after: number, limit: number): Promise<RecordedEvent[]>;
  /**
   * Events of the given types with globalPosition > after, in global order, at most `limit`, and
   * `through`: the position the read covered (every event in (after, through] not returned is of
   * another type). A reader that needs a few types skips the rest without loading them.
   */
  readAllOfTypes(after: number, limit: number, types: readonly string[]): Promise<TypedPage>;
  /** Highest committed global position (0 when empty). */
  headPosition(): Promise<number>;
  /**
   * The current version of each stream (0 for a stream with no event), in one read: the cheap
   * freshness check of a cache keyed by stream version.
   */
  streamVersions(streamIds: readonly string[]): Promise<Map<string, number>>;
  /** The snapshot of the stream kept under `schema`, or null when there is none. */
  readSnapshot(streamId: string, schema: string): Promise<StreamSnapshot | null>;
  /** Keeps the snapshot unless one at or past its version is kept already (a snapshot is never an event). */
  saveSnapshot(snapshot: StreamSnapshot): Promise<void>;
  /**
   * Whether the stream holds an event of one of `types` whose `data[field]` is `equals`: a probe of
   * one stream's history that does not read the stream (indexed where it is on a hot path).
   */
  streamHasEvent(streamId: string, query: StreamEventQuery): Promise<boolean>;
}

/**
 * A stream folded up to `version`, so that a read need not replay the stream from its start. It is
 * derived from the events, never a source of truth: `schema` names the fold (its state shape), and a
 * snapshot of another schema is ignored (the stream is replayed and a new one kept).
 */
export interface StreamSnapshot {
  streamId: string;
  schema: string;
  version: number;
  state: unknown;
}

export interface StreamEventQuery {
  types: readonly string[];
  /** A top-level field of the event's data (letters and digits only). */
  field: string;
  equals: string;
}

export class ExpectedVersionConflict extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion?: number,
  ) {
    super(
      `stream ${streamId}: expected version ${String(expectedVersion)}, found ${actualVersion ?? 'another'}`,
    );
    this.name = 'ExpectedVersionConflict';
  }
}

export function isExpectedVersionConflict(err: unknown): err is ExpectedVersionConflict {
  return err instanceof Error && err.name === 'ExpectedVersionConflict';
}

/** Builds state from a stream with a pure evolve (STYLE.md habit 1), its events upcast first. */
export async function aggregateStream<State>(
  store: EventStore,
  streamId: string,
  fold: StreamFold<State>,
  options?: ReadStreamOptions,
): Promise<{ state: State; version: number }> {
  const events = await store.readStream(streamId, options);
  const state = foldEvents(fold, events);
  return { state, version: events.length === 0 ? 0 : events[events.length - 1]!.streamVersion };
}

/** How a stream of one aggregate is folded, and how often its fold is kept as a snapshot. */
export interface AggregateFold<State> extends StreamFold<State> {
  /** Names the state's shape; change it whenever `evolve` or the state changes. */
  schema: string;
  /** A snapshot is kept once this many events follow the last one kept. */
  snapshotEvery: number;
}

export interface LoadedAggregate<State> {
  state: State;
  version: number;
  /** The version of the snapshot kept for the stream (0: none). */
  snapshotVersion: number;
}

/**
 * The current state of a stream: its snapshot, then the events after it. A read costs one snapshot
 * and at most `snapshotEvery` events, however long the stream (a refresh-token family rotated
 * 100,000 times, a user who signed in as often), and keeps a new snapshot when the tail is long.
 */
export async function loadAggregate<State>(
  store: EventStore,
  streamId: string,
  fold: AggregateFold<State>,
): Promise<LoadedAggregate<State>> {
  const snapshot = await store.readSnapshot(streamId, fold.schema);
  let loaded: LoadedAggregate<State> = {
    state: snapshot === null ? fold.initial() : (snapshot.state as State),
    version: snapshot?.version ?? 0,
    snapshotVersion: snapshot?.version ?? 0,
  };
  // A long tail (a stream written before snapshots were kept) is read a page at a time, each page
  // kept as a snapshot: no read holds the event loop for the whole stream, and no later one redoes it.
  for (;;) {
    const page = await store.readStream(streamId, { fromVersion: loaded.version + 1, limit: LOAD_PAGE_SIZE });
    const state = foldEvents(fold, page, loaded.state);
    let { version } = loaded;
    if (page.length > 0) version = page[page.length - 1]!.streamVersion;
    loaded = await keepSnapshot(store, streamId, fold, { ...loaded, state, version });
    if (page.length < LOAD_PAGE_SIZE) return loaded;
  }
}

/** Events folded between two turns of the event loop when a stream's tail is long. */
export const LOAD_PAGE_SIZE = 250;

/**
 * Keeps `loaded` as the stream's snapshot when `snapshotEvery` events or more follow the last one
 * kept (after a read, or after an append folded into a state already held). A snapshot that cannot be
 * written costs the next read a longer tail, nothing else: the failure is not the caller's.
 */
export async function keepSnapshot<State>(
  store: EventStore,
  streamId: string,
  fold: AggregateFold<State>,
  loaded: LoadedAggregate<State>,
): Promise<LoadedAggregate<State>> {
  if (loaded.version - loaded.snapshotVersion < fold.snapshotEvery) return loaded;
  try {
    await store.saveSnapshot({ streamId, schema: fold.schema, version: loaded.version, state: loaded.state });
    return { ...loaded, snapshotVersion: loaded.version };
  } catch {
    return loaded;
  }
}

/**
 * An append the store cannot hold as given: an empty event list, a missing stream id or type, data
 * that is not JSON, or text Postgres jsonb refuses (U+0000, lone UTF-16 surrogates). Raised before
 * anything is written, by every implementation alike.
 */
export class InvalidEventData extends Error {
  constructor(
    readonly streamId: string,
    readonly reason: string,
  ) {
    super(`stream ${streamId}: ${reason}`);
    this.name = 'InvalidEventData';
  }
}

/**
 * Event text Postgres cannot store (U+0000, a lone surrogate): it came from a request that the
 * edge should have refused, so it is the caller's fault (invalid_request), never a server fault.
 */
export class UnstorableText extends InvalidEventData {}

export function isInvalidEventData(err: unknown): err is InvalidEventData {
  return err instanceof Error && err.name === 'InvalidEventData';
}
