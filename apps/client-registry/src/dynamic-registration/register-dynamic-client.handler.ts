import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import type { RegisterDynamicClientRequest, RegisterDynamicClientResponse } from '#lib/contracts';
import {
  clientView,
  evolveInitialAccessToken,
  generateClientId,
  generateClientSecret,
  hashSecret,
  initialAccessTokenStreamId,
  initialInitialAccessTokenState,
  parseClientMetadataDocument,
  requireValidInitialAccessToken,
  usesSecret,
} from '#lib/domain-client';
import { aggregateStream, type EventStore } from '#lib/event-store';
import { CONFIG, EVENT_STORE } from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';
import { ClientRepository } from '../client-store/client.repository.js';

/**
 * RFC 7591 §3: registration from a metadata document. The server makes the client_id (checklist
 * REG-11), the secret (256 bits, shown once) and the RFC 7592 registration access token.
 */
@Injectable()
export class RegisterDynamicClientHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
    private readonly clients: ClientRepository,
  ) {}

  async handle(request: RegisterDynamicClientRequest): Promise<RegisterDynamicClientResponse> {
    const now = new Date();
    // Checklist decision 12, REG-13: an initial access token unless registration is open.
    if (request.admin !== true && !this.config.openRegistration) {
      const token = typeof request.initialAccessToken === 'string' ? request.initialAccessToken : '';
      const { state } = await aggregateStream(
        this.store,
        initialAccessTokenStreamId(token, this.config.secretPepper),
        evolveInitialAccessToken,
        initialInitialAccessTokenState,
      );
      requireValidInitialAccessToken(state, now);
    }
    const metadata = parseClientMetadataDocument(request.document);
    const clientId = generateClientId();
    const secret = usesSecret(metadata.tokenEndpointAuthMethod) ? generateClientSecret() : undefined;
    const registrationAccessToken = randomBytes(32).toString('base64url');
    const pepper = this.config.secretPepper;
    const state = await this.clients.execute(
      clientId,
      {
        type: 'RegisterClient',
        ...metadata,
        clientId,
        secretHash: secret === undefined ? null : hashSecret(secret, pepper),
        registrationAccessTokenHash: hashSecret(registrationAccessToken, pepper),
        secretTtlSeconds: this.config.clientSecretTtlSeconds,
        now,
      },
      { context: request.context, actor: request.actor },
    );
    return { client: clientView(state), clientSecret: secret, registrationAccessToken };
  }
}
