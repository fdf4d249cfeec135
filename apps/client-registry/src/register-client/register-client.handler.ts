import { Inject, Injectable } from '@nestjs/common';
import type { ClientRegistryConfig, SecretHashingConfig } from '#lib/config';
import {
  eventMetadata,
  type RegisterClientRequest,
  type RegisterClientResponse,
  type RequestContext,
} from '#lib/contracts';
import {
  ClientAlreadyRegistered,
  clientStreamId,
  clientView,
  decideClient,
  openIdMetadataOf,
  CLIENT_FOLD,
  evolveClient,
  generateClientId,
  generateClientSecret,
  hashSecret,
  initialClientState,
  usesSecret,
} from '#lib/domain-client';
import { administrator } from '../registration-policy.js';
import { SectorIdentifierFetcher } from '../sector-identifier/sector-identifier.fetcher.js';
import { aggregateStream, type EventStore, isExpectedVersionConflict } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { CLIENT_REGISTRY_CONFIG, EVENT_STORE, SECRET_HASHING_CONFIG } from '#lib/service-runtime';

@Injectable()
export class RegisterClientHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLIENT_REGISTRY_CONFIG) private readonly config: ClientRegistryConfig,
    @Inject(SECRET_HASHING_CONFIG) private readonly hashing: SecretHashingConfig,
    private readonly sectors: SectorIdentifierFetcher,
  ) {}

  /** The CLI's create, by an administrator already admitted (`actor`). */
  async handle(
    request: RegisterClientRequest,
    by: { context: RequestContext; actor: string },
  ): Promise<RegisterClientResponse> {
    const clientId = request.clientId ?? generateClientId();
    const method = request.tokenEndpointAuthMethod ?? 'client_secret_basic';
    const secret = usesSecret(method) ? generateClientSecret() : undefined;
    const streamId = clientStreamId(clientId);
    const sectorRedirectUris = await this.sectors.redirectUrisAt(request.sectorIdentifierUri);
    const { state, version } = await aggregateStream(this.store, streamId, CLIENT_FOLD);
    const events = eventsOrThrow(
      decideClient(
        {
          type: 'RegisterClient',
          origin: administrator(this.config),
          clientId,
          clientName: request.clientName,
          tokenEndpointAuthMethod: method,
          grantTypes: request.grantTypes,
          scope: request.scope,
          defaultScope: request.defaultScope ?? [],
          audience: request.audience ?? [],
          ...(request.redirectUris === undefined ? {} : { redirectUris: request.redirectUris }),
          ...(request.jwksUri === undefined ? {} : { jwksUri: request.jwksUri }),
          ...(request.requirePkce === undefined ? {} : { requirePkce: request.requirePkce }),
          ...openIdMetadataOf({
            idTokenSignedResponseAlg: request.idTokenSignedResponseAlg,
            subjectType: request.subjectType,
            sectorIdentifierUri: request.sectorIdentifierUri,
            postLogoutRedirectUris: request.postLogoutRedirectUris,
          }),
          ...(sectorRedirectUris === undefined ? {} : { sectorRedirectUris }),
          secretHash: secret === undefined ? null : hashSecret(secret, this.hashing.secretHashKeys),
          secretTtlSeconds: this.config.clientSecretTtlSeconds,
          now: new Date(),
        },
        state,
        { outboundAllow: this.config.outboundAllow },
      ),
    );
    try {
      await this.store.appendToStream(
        streamId,
        version,
        events.map((e) => ({
          ...e,
          metadata: eventMetadata(by.context, by.actor),
        })),
      );
    } catch (err) {
      if (isExpectedVersionConflict(err)) throw new ClientAlreadyRegistered(clientId);
      throw err;
    }
    let registered = initialClientState();
    for (const e of events) registered = evolveClient(registered, e as never);
    return { client: clientView(registered), clientSecret: secret };
  }
}
