import type { ClientView } from '#lib/contracts';
import { type EventStore, foldEvents, type StreamExpectation } from '#lib/event-store';
import { temporarilyUnavailable } from '#lib/oauth-errors';
import {
  CLIENT_FOLD,
  type ClientState,
  clientView,
  initialClientState,
  isKnownClient,
} from './client-state.js';
import { clientStreamId } from './client.js';

/** A client's state folded from its stream, with the version of the stream it was folded at. */
export interface DirectoryEntry {
  state: ClientState;
  /** Version of `client-<client_id>` the state was read at; 0 for a client without events. */
  version: number;
}

export interface ClientViewsOptions {
  /** Most clients held; the least recently used leaves first (default 10,000). */
  capacity?: number;
}

export const DEFAULT_CLIENT_DIRECTORY_CAPACITY = 10_000;

/** A client_id no event names: unregistered, at version 0. */
export const ABSENT: DirectoryEntry = { state: initialClientState(), version: 0 };

/** The precondition that a decision taken on `version` of the client is still current. */
export function clientUnchanged(clientId: string, version: number): StreamExpectation {
  return { streamId: clientStreamId(clientId), version };
}

/**
 * How every service but the client registry (the owner of `client-*`, the only one that appends
 * to it) reads a client: folded from its stream `client-<client_id>` in the event store, held with
 * the stream version it was read at, the least recently used leaving first. No request to the
 * registry, no copy of its tables.
 *
 * The freshness rule (security reads are never stale): a decision may be taken on a held client,
 * but it stands only once the client's stream is confirmed to be still at the version it was
 * taken on, by one read of the stream's current version (`current`, `view`), or by an append that
 * carries the version as its precondition (`clientUnchanged`). When the stream has moved, the
 * client is read again and the decision taken again on the client as it is now, once
 * (`onCurrentClient`). Clients with no event are never held, so unknown client_ids cannot push
 * known ones out.
 */
export class ClientViews {
  private readonly entries = new Map<string, DirectoryEntry>();
  private readonly capacity: number;
  /** The stream of a client seen last, read in place of an unknown client's (same cost). */
  private decoyStreamId: string | undefined;

  constructor(
    protected readonly store: EventStore,
    options: ClientViewsOptions = {},
  ) {
    this.capacity = Math.max(1, options.capacity ?? DEFAULT_CLIENT_DIRECTORY_CAPACITY);
  }

  /** Clients held now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The client as it is now (its stream's version read, the client read again if it moved), or
   * null when there is no client of that id.
   */
  async view(clientId: string): Promise<ClientView | null> {
    const { state } = (await this.current([clientId])).get(clientId)!;
    return isKnownClient(state) ? clientView(state) : null;
  }

  /**
   * Whether the client's stream has moved past `version` (one read of its version; a client that
   * moved is read again, so the next decision is taken on it as it is now).
   */
  async moved(clientId: string, version: number): Promise<boolean> {
    return (await this.current([clientId])).get(clientId)!.version !== version;
  }

  /**
   * The clients as they are now: one read of their streams' versions, then each one held at
   * another version (or not held) is read again. Clients without events come back as unregistered
   * at version 0.
   */
  async current(clientIds: readonly string[]): Promise<Map<string, DirectoryEntry>> {
    const ids = [...new Set(clientIds)];
    return this.currentAt(ids, await this.store.streamVersions(ids.map(clientStreamId)));
  }

  /**
   * current() with the versions of the clients' streams read by the caller (in the same read as
   * something else): `versions` must hold every one of `clientIds`' streams.
   */
  async currentAt(
    clientIds: readonly string[],
    versions: ReadonlyMap<string, number>,
  ): Promise<Map<string, DirectoryEntry>> {
    const ids = [...new Set(clientIds)];
    if (!ids.every((id) => versions.has(clientStreamId(id)))) {
      throw new Error('currentAt: a client stream version is missing');
    }
    const out = new Map<string, DirectoryEntry>();
    await Promise.all(
      ids.map(async (id) => {
        const version = versions.get(clientStreamId(id)) ?? 0;
        const held = this.touch(id);
        if (version === 0) this.entries.delete(id);
        else if (held?.version === version) out.set(id, held);
        else out.set(id, await this.load(id));
      }),
    );
    for (const id of ids) if (!out.has(id)) out.set(id, ABSENT);
    return out;
  }

  /** Reads the client's stream again (after an append refused because the client moved). */
  reload(clientId: string): Promise<DirectoryEntry> {
    return this.load(clientId);
  }

  /** The held client, marked as used last. */
  protected touch(clientId: string): DirectoryEntry | undefined {
    const entry = this.entries.get(clientId);
    if (entry !== undefined) {
      this.entries.delete(clientId);
      this.entries.set(clientId, entry);
    }
    return entry;
  }

  /**
   * One read of the client's stream, folded; held when the client has events. An unknown client
   * costs what a known one does (so timing does not tell which exist): the same query returns, and
   * the same fold evolves, the events of a client seen before; then the result is dropped.
   */
  protected async load(clientId: string): Promise<DirectoryEntry> {
    const streamId = clientStreamId(clientId);
    const events = await this.store.readStream(streamId, { orElse: this.decoyStreamId });
    const state = foldEvents(CLIENT_FOLD, events);
    if (events.length === 0 || events[0]!.streamId !== streamId) return ABSENT;
    this.decoyStreamId = streamId;
    const entry: DirectoryEntry = { state, version: events[events.length - 1]!.streamVersion };
    const held = this.entries.get(clientId);
    // Two reads racing: the later version stays.
    if (held !== undefined && held.version > entry.version) return held;
    this.entries.delete(clientId);
    this.entries.set(clientId, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return entry;
  }
}

/** What a decision returns when it found the client's stream moved since the client was read. */
export const CLIENT_MOVED: unique symbol = Symbol('CLIENT_MOVED');

/** Decisions one request may take: the first, and one on the client read again. */
const DECISIONS_PER_REQUEST = 2;

/**
 * The freshness rule's one re-check loop: `decide` takes its decision on the client as held and
 * confirms it (ClientViews); when it answers CLIENT_MOVED, the client has been read again and the
 * decision is taken once more, on the client as it is now. A client that moves under both
 * decisions makes the request temporarily_unavailable (RFC 6749 §4.1.2.1), never a decision on a
 * stale client.
 */
export async function onCurrentClient<T>(
  decide: (round: number) => Promise<T | typeof CLIENT_MOVED>,
  who = 'the client',
): Promise<T> {
  for (let round = 1; round <= DECISIONS_PER_REQUEST; round++) {
    const outcome = await decide(round);
    if (outcome !== CLIENT_MOVED) return outcome;
  }
  throw temporarilyUnavailable(`${who} changed during two requests`);
}
