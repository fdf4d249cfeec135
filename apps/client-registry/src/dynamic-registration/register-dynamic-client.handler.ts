import { Inject, Injectable } from '@nestjs/common';
import type { ClientRegistryConfig, RegistrationPolicyConfig, SecretHashingConfig } from '#lib/config';
import {
  type AdminCreateClientRequest,
  eventMetadata,
  type RegisterDynamicClientRequest,
  type RegisterDynamicClientResponse,
  type RequestContext,
} from '#lib/contracts';
import {
  clientStreamId,
  clientView,
  decideClient,
  CLIENT_FOLD,
  evolveInitialAccessToken,
  generateClientId,
  generateClientSecret,
  hashSecret,
  initialClientState,
  initialInitialAccessTokenState,
  locateInitialAccessToken,
  parseClientMetadataDocument,
  type RegistrationOrigin,
  useInitialAccessToken,
  usesSecret,
} from '#lib/domain-client';
import {
  aggregateStream,
  type AppendRequest,
  type EventStore,
  isExpectedVersionConflict,
  foldEvents,
} from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { OAuthError } from '#lib/oauth-errors';
import {
  CLIENT_REGISTRY_CONFIG,
  EVENT_STORE,
  REGISTRATION_POLICY_CONFIG,
  SECRET_HASHING_CONFIG,
} from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';
import { administrator, selfService } from '../registration-policy.js';
import { SectorIdentifierFetcher } from '../sector-identifier/sector-identifier.fetcher.js';

/** Concurrent registrations on one initial access token: each re-reads and re-decides its use. */
const MAX_ATTEMPTS = 5;

/**
 * RFC 7591 §3: registration from a metadata document. The server makes the client_id (a proposed
 * one is ignored, RFC 9700 §4.15.1), the secret (256 bits, shown once) and the RFC 7592 registration
 * access token. Through POST /register the document is held to the registration policy and,
 * unless registration is open, spends one use of an initial access token in the same atomic append
 * as the registration; an administrator's create is not.
 */
@Injectable()
export class RegisterDynamicClientHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLIENT_REGISTRY_CONFIG) private readonly config: ClientRegistryConfig,
    @Inject(SECRET_HASHING_CONFIG) private readonly hashing: SecretHashingConfig,
    @Inject(REGISTRATION_POLICY_CONFIG) private readonly policy: RegistrationPolicyConfig,
    private readonly sectors: SectorIdentifierFetcher,
  ) {}

  async selfService(request: RegisterDynamicClientRequest): Promise<RegisterDynamicClientResponse> {
    const by = { context: request.context, actor: 'anonymous' };
    if (this.config.openRegistration) return this.register(request.document, selfService(this.policy), by);
    // RFC 7591 §3: the initial access token, unless the operator has opened registration.
    const located = locateInitialAccessToken(
      typeof request.initialAccessToken === 'string' ? request.initialAccessToken : '',
      this.hashing.secretHashKeys,
    );
    if (located === null) {
      throw new OAuthError('invalid_token', 'a valid initial access token is required', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    }
    for (let attempt = 1; ; attempt++) {
      const token = await aggregateStream(this.store, located.streamId, {
        evolve: evolveInitialAccessToken,
        initial: initialInitialAccessTokenState,
      });
      try {
        return await this.register(request.document, selfService(this.policy), by, (clientId) => ({
          streamId: located.streamId,
          expectedVersion: token.version,
          events: [
            useInitialAccessToken(token.state, located, this.hashing.secretHashKeys, clientId, new Date()),
          ],
        }));
      } catch (err) {
        if (!isExpectedVersionConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  async byAdministrator(
    request: AdminCreateClientRequest,
    by: { context: RequestContext; actor: string },
  ): Promise<RegisterDynamicClientResponse> {
    return this.register(request.document, administrator(this.config), by);
  }

  private async register(
    document: unknown,
    origin: RegistrationOrigin,
    by: { context: RequestContext; actor: string },
    alongside?: (clientId: string) => AppendRequest,
  ): Promise<RegisterDynamicClientResponse> {
    const metadata = parseClientMetadataDocument(document);
    const sectorRedirectUris = await this.sectors.redirectUrisAt(metadata.sectorIdentifierUri);
    const clientId = generateClientId();
    const secret = usesSecret(metadata.tokenEndpointAuthMethod) ? generateClientSecret() : undefined;
    const registrationAccessToken = randomBytes(32).toString('base64url');
    const keys = this.hashing.secretHashKeys;
    const events = eventsOrThrow(
      decideClient(
        {
          type: 'RegisterClient',
          origin,
          ...metadata,
          ...(sectorRedirectUris === undefined ? {} : { sectorRedirectUris }),
          clientId,
          secretHash: secret === undefined ? null : hashSecret(secret, keys),
          registrationAccessTokenHash: hashSecret(registrationAccessToken, keys),
          secretTtlSeconds: this.config.clientSecretTtlSeconds,
          now: new Date(),
        },
        initialClientState(),
        { outboundAllow: this.config.outboundAllow },
      ),
    );
    const metadataOf = eventMetadata(by.context, by.actor);
    const requests: AppendRequest[] = [
      {
        streamId: clientStreamId(clientId),
        expectedVersion: 0,
        events: events.map((e) => ({ ...e, metadata: metadataOf })),
      },
    ];
    const spent = alongside?.(clientId);
    if (spent) requests.push({ ...spent, events: spent.events.map((e) => ({ ...e, metadata: metadataOf })) });
    const [written] = await this.store.appendMany(requests);
    const state = foldEvents(CLIENT_FOLD, written!.events);
    return { client: clientView(state), clientSecret: secret, registrationAccessToken };
  }
}
