import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ClientRegistryConfig, SecretHashingConfig } from '#lib/config';
import {
  type AuthenticateClientRequest,
  type ClientView,
  eventMetadata,
  type PresentedClientCredentials,
  type RequestContext,
} from '#lib/contracts';
import {
  authenticateClient,
  clientAssertionAudiences,
  clientAssertionStreamId,
  clientAssertionUsed,
  clientAuthenticationFailure,
  clientForAssertion,
  clientStreamId,
  type ClientState,
  clientView,
  CLIENT_FOLD,
  FailureThrottle,
  initialClientState,
  localKeySet,
  verifyClientAssertion,
} from '#lib/domain-client';
import { type EventStore, isExpectedVersionConflict, foldEvents } from '#lib/event-store';
import { invalidClient, OAuthError } from '#lib/oauth-errors';
import { createOutboundFetch, type OutboundFetch } from '#lib/outbound-guard';
import { sourceAddressKey } from '#lib/oauth-protocol';
import { CLIENT_REGISTRY_CONFIG, EVENT_STORE, SECRET_HASHING_CONFIG } from '#lib/service-runtime';
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';

/**
 * Client authentication for the token, introspection and revocation endpoints (RFC 6749 §2.3.1,
 * RFC 7523 §2.2), throttled per source address, never per client_id (a client_id is public; see throttle.ts).
 */
@Injectable()
export class AuthenticateClientHandler implements OnModuleDestroy {
  private readonly throttle: FailureThrottle;
  private readonly remoteKeySets = new Map<string, JWTVerifyGetKey>();
  /** jwks_uri is fetched through the outbound guard (RFC 9700 §4.16); jose keeps the caching. */
  private readonly outboundFetch: OutboundFetch;
  private readonly audiences: string[];
  private readonly logger = new Logger('OutboundFetch');
  /** The stream of a client seen last, read in place of an unknown client's (OAuth 2.1 §7.7). */
  private decoyStreamId: string | undefined;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLIENT_REGISTRY_CONFIG) private readonly config: ClientRegistryConfig,
    @Inject(SECRET_HASHING_CONFIG) private readonly hashing: SecretHashingConfig,
  ) {
    this.throttle = new FailureThrottle({
      maxFailures: config.clientAuthMaxFailures,
      windowSeconds: config.clientAuthFailureWindowSeconds,
    });
    this.outboundFetch = createOutboundFetch({
      allow: config.outboundAllow,
      timeoutMs: config.outboundTimeoutMs,
      maxResponseBytes: config.outboundMaxBytes,
    });
    this.audiences = clientAssertionAudiences(config.issuer, {
      legacyTokenEndpoint: config.clientAssertionLegacyAudience,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.outboundFetch.close();
  }

  async handle(request: AuthenticateClientRequest): Promise<ClientView> {
    const presented = request.credentials;
    if (typeof presented?.clientId !== 'string') throw invalidClient();
    // RFC 6749 §5.2: answered like any other failure (with the Basic challenge when Basic was used), so
    // that the answer does not tell whether the client exists.
    if (presented.clientId.length > 256) throw clientAuthenticationFailure(presented, 'client_id too long');
    const now = new Date();
    const source = sourceAddressKey(request.context?.ip);
    this.throttle.check(source, now);
    try {
      return await this.authenticate(presented, now, request.context);
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'invalid_client') {
        this.throttle.recordFailure(source, now);
      }
      throw err;
    }
  }

  private async authenticate(
    presented: PresentedClientCredentials,
    now: Date,
    context: RequestContext | undefined,
  ): Promise<ClientView> {
    const state = await this.load(presented.clientId);
    if (presented.method !== 'private_key_jwt') {
      return authenticateClient(state, presented, this.hashing.secretHashKeys, now);
    }
    const client = clientForAssertion(state, presented);
    const keys = client.jwks !== null ? localKeySet(client.jwks) : this.remoteKeys(client.jwksUri!);
    const verified = await verifyClientAssertion(presented, keys, { audiences: this.audiences, now });
    try {
      // RFC 7523 §3 item 7: a jti is used once; the store's version check decides, not a read.
      await this.store.appendToStream(clientAssertionStreamId(client.clientId, verified.jti), 0, [
        { ...clientAssertionUsed(verified), metadata: eventMetadata(context, `client:${client.clientId}`) },
      ]);
    } catch (err) {
      if (isExpectedVersionConflict(err)) throw clientAuthenticationFailure(presented, 'jti replayed');
      throw err;
    }
    return clientView(client);
  }

  /**
   * The client's state. An unknown client costs what a known one does (OAuth 2.1 §7.7): the
   * same query returns, and the same fold evolves, the events of a client seen before; then the
   * result is dropped.
   */
  private async load(clientId: string): Promise<ClientState> {
    const streamId = clientStreamId(clientId);
    const events = await this.store.readStream(streamId, { orElse: this.decoyStreamId });
    const state = foldEvents(CLIENT_FOLD, events);
    if (events.length === 0 || events[0]!.streamId !== streamId) return initialClientState();
    this.decoyStreamId = streamId;
    return state;
  }

  private remoteKeys(uri: string): JWTVerifyGetKey {
    let keys = this.remoteKeySets.get(uri);
    if (keys === undefined) {
      keys = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: this.config.outboundTimeoutMs,
        cooldownDuration: 30000,
        // A refused or failed fetch is the client's 401, and the operator's warning.
        [customFetch]: (url, init) =>
          this.outboundFetch(url, init).catch((err: unknown) => {
            const reason = err instanceof Error ? err.message : String(err);
            this.logger.warn({ msg: `jwks_uri not fetched: ${reason}`, jwksUri: url });
            throw err;
          }),
      });
      if (this.remoteKeySets.size > 1000) this.remoteKeySets.clear();
      this.remoteKeySets.set(uri, keys);
    }
    return keys;
  }
}
