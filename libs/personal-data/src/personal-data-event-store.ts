import type {
  AppendManyOptions,
  AppendRequest,
  AppendResult,
  EventStore,
  ExpectedVersion,
  NewEvent,
  ReadStreamOptions,
  RecordedEvent,
  StreamEventQuery,
  StreamSnapshot,
  TypedPage,
} from '#lib/event-store';
import { ERASED, isSealed, openValue, sealValue } from './cipher.js';
import type { DataKeys } from './data-keys.js';

/**
 * Which fields hold personal data: per event type, data fields sealed under the key of the
 * event's `data.sub`; per snapshot schema, state fields sealed under the key of the state's `sub`.
 */
export interface PersonalFields {
  events: Readonly<Record<string, readonly string[]>>;
  snapshots: Readonly<Record<string, readonly string[]>>;
}

type Fields = Record<string, unknown>;

function subOf(value: unknown): string | null {
  const sub = (value as { sub?: unknown } | null)?.sub;
  return typeof sub === 'string' ? sub : null;
}

/**
 * The event store as the owner of personal data sees it: personal fields are sealed before they
 * are appended (so the table, its hash chain and every copy of it hold ciphertext only) and opened
 * when read; once a person's data key is destroyed they read as ERASED. Values written before
 * sealing existed (plaintext) pass through unchanged.
 */
export class PersonalDataEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly keys: DataKeys,
    private readonly fields: PersonalFields,
  ) {}

  async appendToStream(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
  ): Promise<AppendResult> {
    const sealed = await this.sealEvents(events);
    const result = await this.inner.appendToStream(streamId, expectedVersion, sealed);
    return { ...result, events: await this.openEvents(result.events) };
  }

  async appendMany(requests: AppendRequest[], options?: AppendManyOptions): Promise<AppendResult[]> {
    const sealed = await this.sealEvents(requests.flatMap((r) => r.events));
    let at = 0;
    const sealedRequests = requests.map((r) => ({ ...r, events: r.events.map(() => sealed[at++]!) }));
    const results = await this.inner.appendMany(sealedRequests, options);
    return Promise.all(results.map(async (r) => ({ ...r, events: await this.openEvents(r.events) })));
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.openEvents(await this.inner.readStream(streamId, options));
  }

  async readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return this.openEvents(await this.inner.readAll(after, limit));
  }

  async readAllOfTypes(after: number, limit: number, types: readonly string[]): Promise<TypedPage> {
    const page = await this.inner.readAllOfTypes(after, limit, types);
    return { ...page, events: await this.openEvents(page.events) };
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  streamVersions(streamIds: readonly string[]): Promise<Map<string, number>> {
    return this.inner.streamVersions(streamIds);
  }

  streamHasEvent(streamId: string, query: StreamEventQuery): Promise<boolean> {
    return this.inner.streamHasEvent(streamId, query);
  }

  async readSnapshot(streamId: string, schema: string): Promise<StreamSnapshot | null> {
    const snapshot = await this.inner.readSnapshot(streamId, schema);
    const fields = this.fields.snapshots[schema];
    if (!snapshot || !fields) return snapshot;
    const sub = subOf(snapshot.state);
    const keys = sub === null ? new Map() : await this.keys.keysOf([sub]);
    return {
      ...snapshot,
      state: open(snapshot.state as Fields, fields, `snapshot:${schema}`, keys.get(sub!)),
    };
  }

  async saveSnapshot(snapshot: StreamSnapshot): Promise<void> {
    const fields = this.fields.snapshots[snapshot.schema];
    const sub = subOf(snapshot.state);
    if (!fields || sub === null) return this.inner.saveSnapshot(snapshot);
    const key = (await this.keys.keysFor([sub])).get(sub) ?? null;
    const state = seal(snapshot.state as Fields, fields, `snapshot:${snapshot.schema}`, key);
    return this.inner.saveSnapshot({ ...snapshot, state });
  }

  private async sealEvents(events: NewEvent[]): Promise<NewEvent[]> {
    const subs = events
      .flatMap((e) => (this.fields.events[e.type] ? [subOf(e.data)] : []))
      .filter((s) => s !== null);
    if (subs.length === 0) return events;
    const keys = await this.keys.keysFor(subs);
    return events.map((e) => {
      const fields = this.fields.events[e.type];
      const sub = subOf(e.data);
      if (!fields || sub === null) return e;
      return { ...e, data: seal(e.data as Fields, fields, e.type, keys.get(sub) ?? null) };
    });
  }

  private async openEvents(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const subs = events.flatMap((e) => (this.sealedFieldsOf(e) ? [subOf(e.data)!] : []));
    if (subs.length === 0) return events;
    const keys = await this.keys.keysOf(subs);
    return events.map((e) => {
      const fields = this.sealedFieldsOf(e);
      return fields ? { ...e, data: open(e.data as Fields, fields, e.type, keys.get(subOf(e.data)!)) } : e;
    });
  }

  /** The event's declared personal fields when one of them is sealed. */
  private sealedFieldsOf(e: RecordedEvent): readonly string[] | null {
    const fields = this.fields.events[e.type];
    if (!fields || subOf(e.data) === null) return null;
    const data = e.data as Fields;
    return fields.some((f) => isSealed(data[f])) ? fields : null;
  }
}

/** The personal fields present sealed under `key`; ERASED when the person's key is destroyed. */
function seal(data: Fields, fields: readonly string[], context: string, key: Buffer | null): Fields {
  const out: Fields = { ...data };
  for (const field of fields) {
    if (out[field] === undefined) continue;
    out[field] = key === null ? ERASED : sealValue(key, `${context}/${field}`, out[field]);
  }
  return out;
}

function open(
  data: Fields,
  fields: readonly string[],
  context: string,
  key: Buffer | null | undefined,
): Fields {
  const out: Fields = { ...data };
  for (const field of fields) {
    const value = out[field];
    if (!isSealed(value)) continue;
    out[field] = key ? openValue(key, `${context}/${field}`, value) : ERASED;
  }
  return out;
}

/** The personal fields of several aggregates a service owns, together. */
export function mergePersonalFields(...parts: PersonalFields[]): PersonalFields {
  return {
    events: Object.assign({}, ...parts.map((p) => p.events)) as PersonalFields['events'],
    snapshots: Object.assign({}, ...parts.map((p) => p.snapshots)) as PersonalFields['snapshots'],
  };
}
