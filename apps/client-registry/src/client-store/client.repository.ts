import { Inject, Injectable } from '@nestjs/common';
import type { ClientRegistryConfig, SecretHashingConfig } from '#lib/config';
import { eventMetadata, type RequestContext } from '#lib/contracts';
import {
  type ClientCommand,
  type ClientState,
  clientStreamId,
  decideClient,
  CLIENT_FOLD,
  registrationAccessTokenMatches,
} from '#lib/domain-client';
import { aggregateStream, type EventStore, foldEvents } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { notFound, OAuthError } from '#lib/oauth-errors';
import { CLIENT_REGISTRY_CONFIG, EVENT_STORE, SECRET_HASHING_CONFIG } from '#lib/service-runtime';

export type Loaded = { state: ClientState; version: number };

/** Loads a client's stream, runs the decider and appends its events with the actor. */
@Injectable()
export class ClientRepository {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLIENT_REGISTRY_CONFIG) private readonly config: ClientRegistryConfig,
    @Inject(SECRET_HASHING_CONFIG) private readonly hashing: SecretHashingConfig,
  ) {}

  async load(clientId: string): Promise<Loaded> {
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 256)
      throw notFound('no such client');
    return aggregateStream(this.store, clientStreamId(clientId), CLIENT_FOLD);
  }

  async execute(
    clientId: string,
    command: ClientCommand,
    meta: { context: RequestContext; actor: string },
    loaded?: Loaded,
  ): Promise<ClientState> {
    const { state, version } = loaded ?? (await this.load(clientId));
    const events = eventsOrThrow(decideClient(command, state, { outboundAllow: this.config.outboundAllow }));
    if (events.length === 0) return state;
    const result = await this.store.appendToStream(
      clientStreamId(clientId),
      version,
      events.map((e) => ({
        ...e,
        metadata: eventMetadata(meta.context, meta.actor),
      })),
    );
    let next = state;
    for (const e of result.events) next = foldEvents(CLIENT_FOLD, [e], next);
    return next;
  }

  /**
   * RFC 7592 §2: the registration access token of this very client. An unknown client and a wrong
   * token answer alike (401 invalid_token, RFC 6750 §3.1).
   */
  async loadWithRegistrationAccessToken(clientId: string, token: unknown): Promise<Loaded> {
    const loaded = await this.load(clientId);
    if (!registrationAccessTokenMatches(loaded.state, String(token), this.hashing.secretHashKeys)) {
      throw new OAuthError('invalid_token', 'the registration access token is not valid for this client', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    }
    return loaded;
  }
}
