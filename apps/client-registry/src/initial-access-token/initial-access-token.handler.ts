import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientRegistryConfig, SecretHashingConfig } from '#lib/config';
import {
  type CreateInitialAccessTokenRequest,
  type CreateInitialAccessTokenResponse,
  eventMetadata,
  type InitialAccessTokenView,
  type ListInitialAccessTokensResponse,
  type RequestContext,
  type RevokeInitialAccessTokenRequest,
} from '#lib/contracts';
import {
  createInitialAccessToken,
  evolveInitialAccessToken,
  INITIAL_ACCESS_TOKENS,
  initialAccessTokensProjection,
  initialAccessTokenStreamIdOf,
  initialAccessTokenView,
  initialInitialAccessTokenState,
  type InitialAccessTokenState,
  revokeInitialAccessToken,
} from '#lib/domain-client';
import { aggregateStream, type EventStore, ProjectionRows, ProjectionRunner } from '#lib/event-store';
import { invalidRequest, notFound } from '#lib/oauth-errors';
import {
  CLIENT_REGISTRY_CONFIG,
  DATA_SOURCE,
  EVENT_STORE,
  SECRET_HASHING_CONFIG,
} from '#lib/service-runtime';
import type { DataSource } from 'typeorm';

type Admitted = { context: RequestContext; actor: string };

/**
 * RFC 7591 §3 initial access tokens, made, listed and revoked by an administrator; each is shown
 * once, only the HMAC of its secret is stored, and its uses are events on its stream.
 */
@Injectable()
export class InitialAccessTokenHandler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runner: ProjectionRunner;
  private readonly rows: ProjectionRows;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLIENT_REGISTRY_CONFIG) private readonly config: ClientRegistryConfig,
    @Inject(SECRET_HASHING_CONFIG) private readonly hashing: SecretHashingConfig,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.runner = new ProjectionRunner(dataSource, store, [initialAccessTokensProjection], {
      batchSize: 500,
    });
    this.rows = new ProjectionRows(dataSource);
  }

  onApplicationBootstrap(): void {
    this.runner.start(1000);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  async create(
    request: CreateInitialAccessTokenRequest,
    by: Admitted,
  ): Promise<CreateInitialAccessTokenResponse> {
    const now = new Date();
    const { token, streamId, event } = createInitialAccessToken(now, {
      ttlSeconds: request.ttlSeconds ?? this.config.initialAccessTokenTtlSeconds,
      ...(request.maxUses !== undefined ? { maxUses: request.maxUses } : {}),
      secretHashKeys: this.hashing.secretHashKeys,
    });
    const result = await this.store.appendToStream(streamId, 0, [
      { ...event, metadata: eventMetadata(by.context, by.actor) },
    ]);
    const state = result.events.reduce(evolveInitialAccessToken, initialInitialAccessTokenState());
    return { initialAccessToken: token, token: initialAccessTokenView(state, now) };
  }

  async list(): Promise<ListInitialAccessTokensResponse> {
    await this.runner.catchUp();
    const now = new Date();
    const tokens: InitialAccessTokenView[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.rows.page<InitialAccessTokenState>(INITIAL_ACCESS_TOKENS, after, 500);
      for (const p of page) tokens.push(initialAccessTokenView(p.row, now));
      if (page.length < 500 || tokens.length >= 10_000) break;
      after = page[page.length - 1]!.key;
    }
    return { initialAccessTokens: tokens.sort((a, b) => b.createdAt.localeCompare(a.createdAt)) };
  }

  async revoke(request: RevokeInitialAccessTokenRequest, by: Admitted): Promise<InitialAccessTokenView> {
    if (typeof request.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(request.id))
      throw invalidRequest('malformed initial access token id');
    const streamId = initialAccessTokenStreamIdOf(request.id);
    const { state, version } = await aggregateStream(this.store, streamId, {
      evolve: evolveInitialAccessToken,
      initial: initialInitialAccessTokenState,
    });
    if (state.status !== 'created') throw notFound('no such initial access token');
    const events = revokeInitialAccessToken(state, new Date());
    if (events.length === 0) return initialAccessTokenView(state, new Date());
    const result = await this.store.appendToStream(
      streamId,
      version,
      events.map((e) => ({ ...e, metadata: eventMetadata(by.context, by.actor) })),
    );
    return initialAccessTokenView(result.events.reduce(evolveInitialAccessToken, state), new Date());
  }
}
