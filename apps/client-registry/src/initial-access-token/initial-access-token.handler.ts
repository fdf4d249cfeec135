import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import type { CreateInitialAccessTokenRequest, CreateInitialAccessTokenResponse } from '#lib/contracts';
import { createInitialAccessToken, initialAccessTokenStreamId } from '#lib/domain-client';
import type { EventStore } from '#lib/event-store';
import { CONFIG, EVENT_STORE } from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';

/** RFC 7591 §3: an operator makes an initial access token; it is shown once, its HMAC names its stream. */
@Injectable()
export class InitialAccessTokenHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async create(request: CreateInitialAccessTokenRequest): Promise<CreateInitialAccessTokenResponse> {
    const token = randomBytes(32).toString('base64url');
    const event = createInitialAccessToken(
      new Date(),
      request.ttlSeconds ?? this.config.initialAccessTokenTtlSeconds,
    );
    await this.store.appendToStream(initialAccessTokenStreamId(token, this.config.secretPepper), 0, [
      { ...event, metadata: { correlationId: request.context.correlationId, actor: request.actor } },
    ]);
    return { initialAccessToken: token, expiresAt: event.data.expiresAt };
  }
}
