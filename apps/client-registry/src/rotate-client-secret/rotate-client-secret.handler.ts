import { Inject, Injectable } from '@nestjs/common';
import type { ClientRegistryConfig, SecretHashingConfig } from '#lib/config';
import {
  eventMetadata,
  type RequestContext,
  type RotateClientSecretRequest,
  type RotateClientSecretResponse,
} from '#lib/contracts';
import {
  clientStreamId,
  decideClient,
  CLIENT_FOLD,
  evolveClient,
  generateClientSecret,
  hashSecret,
  isKnownClient,
} from '#lib/domain-client';
import { aggregateStream, type EventStore } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { CLIENT_REGISTRY_CONFIG, EVENT_STORE, SECRET_HASHING_CONFIG } from '#lib/service-runtime';

/**
 * Issues a new secret with a fresh lifetime (CLIENT_SECRET_TTL_SECONDS, RFC 7591 §3.2.1
 * client_secret_expires_at); the old one stops at once unless a grace period is asked.
 */
@Injectable()
export class RotateClientSecretHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLIENT_REGISTRY_CONFIG) private readonly config: ClientRegistryConfig,
    @Inject(SECRET_HASHING_CONFIG) private readonly hashing: SecretHashingConfig,
  ) {}

  async handle(
    request: RotateClientSecretRequest,
    by: { context: RequestContext; actor: string },
  ): Promise<RotateClientSecretResponse> {
    const streamId = clientStreamId(request.clientId);
    const { state, version } = await aggregateStream(this.store, streamId, CLIENT_FOLD);
    const secret = generateClientSecret();
    const events = eventsOrThrow(
      decideClient(
        {
          type: 'RotateClientSecret',
          secretHash: hashSecret(secret, this.hashing.secretHashKeys),
          graceSeconds: request.graceSeconds ?? 0,
          secretTtlSeconds: this.config.clientSecretTtlSeconds,
          now: new Date(),
        },
        state,
      ),
    );
    await this.store.appendToStream(
      streamId,
      version,
      events.map((e) => ({
        ...e,
        metadata: eventMetadata(by.context, by.actor),
      })),
    );
    let rotated = state;
    for (const e of events) rotated = evolveClient(rotated, e as never);
    return {
      clientId: request.clientId,
      clientSecret: secret,
      secretExpiresAt: isKnownClient(rotated) ? rotated.secretExpiresAt : null,
    };
  }
}
