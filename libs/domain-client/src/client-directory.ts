import type { Keyset } from '#lib/keysets';
import type { ClientView, PresentedClientCredentials } from '#lib/contracts';
import type { EventStore } from '#lib/event-store';
import { invalidClient, OAuthError } from '#lib/oauth-errors';
import { sourceAddressKey } from '#lib/oauth-protocol';
import { authenticateClient, clientAuthenticationFailure } from './client-authentication.js';
import { ABSENT, ClientViews, type ClientViewsOptions, type DirectoryEntry } from './client-views.js';
import { FailureThrottle, type ThrottlePolicy } from './throttle.js';

/** A client authenticated against its state at `version` of its stream. */
export interface AuthenticatedClient {
  client: ClientView;
  version: number;
}

export interface ClientDirectoryOptions extends ClientViewsOptions {
  /** The secret-hash keys (secrets are compared as HMACs under the key they name, secret.ts). */
  secretHashKeys: Keyset;
  /** Failed authentications allowed per source address (RFC 6749 §2.3.1: resist brute force). */
  throttle: ThrottlePolicy;
  clock?: () => Date;
}

/**
 * Client authentication (RFC 6749 §2.3.1) on the clients a service holds (ClientViews), so that it
 * needs no request to the client registry. Under ClientViews' freshness rule:
 * - a success may be decided on a held client, but only a caller that then proves the stream has not
 *   moved may act on it: the token endpoint appends with `clientUnchanged(id, version)` as a
 *   precondition; introspection and revocation compare with `current()` (one read of versions);
 * - a failure is never decided on a held client: the stream is read again and the credentials
 *   checked again, so a secret rotated a moment ago works at once; an unknown client costs that
 *   same read (the read returns a known client's events as a decoy, so timing does not tell
 *   which client_ids exist).
 * private_key_jwt is not authenticated here (its jti is single use, an append in the registry).
 */
export class ClientDirectory extends ClientViews {
  private readonly throttle: FailureThrottle;
  private readonly clock: () => Date;

  constructor(
    store: EventStore,
    private readonly options: ClientDirectoryOptions,
  ) {
    super(store, options);
    this.throttle = new FailureThrottle(options.throttle);
    this.clock = options.clock ?? (() => new Date());
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

  private check(
    entry: DirectoryEntry,
    presented: PresentedClientCredentials,
    now: Date,
  ): AuthenticatedClient {
    const client = authenticateClient(entry.state, presented, this.options.secretHashKeys, now);
    return { client, version: entry.version };
  }
}

function isInvalidClient(err: unknown): boolean {
  return err instanceof OAuthError && err.error === 'invalid_client';
}
