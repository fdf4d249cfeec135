import type { Keyset } from '#lib/keysets';
import type { ClientView, PresentedClientCredentials } from '#lib/contracts';
import { type EventStore, foldEvents, type StreamExpectation } from '#lib/event-store';
import { invalidClient, OAuthError } from '#lib/oauth-errors';
import { sourceAddressKey } from '#lib/oauth-protocol';
import { authenticateClient, clientAuthenticationFailure } from './client-authentication.js';
import { CLIENT_FOLD, type ClientState, initialClientState } from './client-state.js';
import { clientStreamId } from './client.js';
import { FailureThrottle, type ThrottlePolicy } from './throttle.js';

/** A client's state folded from its stream, with the version of the stream it was folded at. */
export interface DirectoryEntry {
  state: ClientState;
  /** Version of `client-<client_id>` the state was read at; 0 for a client without events. */
  version: number;
}

/** A client authenticated against its state at `version` of its stream. */
export interface AuthenticatedClient {
  client: ClientView;
  version: number;
}

export interface ClientDirectoryOptions {
  /** The secret-hash keys (secrets are compared as HMACs under the key they name, secret.ts). */
  secretHashKeys: Keyset;
  /** Failed authentications allowed per source address (RFC 6749 §2.3.1: resist brute force). */
  throttle: ThrottlePolicy;
  /** Most clients held; the least recently used leaves first (default 10,000). */
  capacity?: number;
  clock?: () => Date;
}

export const DEFAULT_CLIENT_DIRECTORY_CAPACITY = 10_000;

const ABSENT: DirectoryEntry = { state: initialClientState(), version: 0 };

/** The precondition that a decision taken on `version` of the client is still current. */
export function clientUnchanged(clientId: string, version: number): StreamExpectation {
  return { streamId: clientStreamId(clientId), version };
}

/**
 * The clients a service needs on its hot path, folded from their streams (`client-<client_id>`)
 * and held with the stream version they were read at, so that client authentication (RFC 6749
 * §2.3.1) needs no request to the client registry. Freshness rules (ARCHITECTURE.md: security
 * reads are never stale):
 * - a success may be decided on a held client, but only a caller that then proves the stream has not
 *   moved may act on it: the token endpoint appends with `clientUnchanged(id, version)` as a
 *   precondition; introspection and revocation compare with `current()` (one read of versions);
 * - a failure is never decided on a held client: the stream is read again and the credentials
 *   checked again, so a secret rotated a moment ago works at once; an unknown client costs that
 *   same read (the read returns a known client's events as a decoy, so timing does not tell
 *   which client_ids exist);
 * - clients with no event are never held, so unknown client_ids cannot push known ones out.
 * private_key_jwt is not authenticated here (its jti is single use, an append in the registry).
 */
export class ClientDirectory {
  private readonly entries = new Map<string, DirectoryEntry>();
  private readonly throttle: FailureThrottle;
  private readonly capacity: number;
  private readonly clock: () => Date;
  /** The stream of a client seen last, read in place of an unknown client's (same cost). */
  private decoyStreamId: string | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly options: ClientDirectoryOptions,
  ) {
    this.throttle = new FailureThrottle(options.throttle);
    this.capacity = Math.max(1, options.capacity ?? DEFAULT_CLIENT_DIRECTORY_CAPACITY);
    this.clock = options.clock ?? (() => new Date());
  }

  /** Clients held now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * client_secret_basic, client_secret_post and none, throttled per source address (RFC
   * 6749 §2.3.1, OAuth 2.1 §2.4.1): every invalid_client counts against the caller's address (`ip`, the
   * gateway's view of it), and past the threshold that address gets 429, whichever client it names;
   * the same client from another address is not refused.
   */
  async authenticate(
    presented: PresentedClientCredentials,
    ip: string | undefined,
  ): Promise<AuthenticatedClient> {
    if (typeof presented?.clientId !== 'string') throw invalidClient();
    // RFC 6749 §5.2: answered like any other failure (with the Basic challenge when Basic was used).
    if (presented.clientId.length > 256) throw clientAuthenticationFailure(presented, 'client_id too long');
    const now = this.clock();
    const source = sourceAddressKey(ip);
    this.throttle.check(source, now);
    try {
      const held = this.touch(presented.clientId) ?? ABSENT;
      try {
        return this.check(held, presented, now);
      } catch (err) {
        if (!isInvalidClient(err)) throw err;
      }
      // Never refused on what is held: the stream is read again, for an unknown client too.
      return this.check(await this.load(presented.clientId), presented, now);
    } catch (err) {
      if (isInvalidClient(err)) this.throttle.recordFailure(source, now);
      throw err;
    }
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

  private check(
    entry: DirectoryEntry,
    presented: PresentedClientCredentials,
    now: Date,
  ): AuthenticatedClient {
    const client = authenticateClient(entry.state, presented, this.options.secretHashKeys, now);
    return { client, version: entry.version };
  }

  private touch(clientId: string): DirectoryEntry | undefined {
    const entry = this.entries.get(clientId);
    if (entry !== undefined) {
      this.entries.delete(clientId);
      this.entries.set(clientId, entry);
    }
    return entry;
  }

  /**
   * One read of the client's stream, folded; held when the client has events. An unknown client
   * costs what a known one does (so timing does not tell which exist): the same query returns, and the same fold
   * evolves, the events of a client seen before; then the result is dropped.
   */
  private async load(clientId: string): Promise<DirectoryEntry> {
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

function isInvalidClient(err: unknown): boolean {
  return err instanceof OAuthError && err.error === 'invalid_client';
}
