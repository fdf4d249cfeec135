import { Inject, Injectable } from '@nestjs/common';
import type { TokenHistoryRequest, TokenHistoryResponse } from '#lib/contracts';
import { accessTokenStreamId } from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { PagedHistory } from './paged-history.js';

/** The audit view of one access token: its stream, in order, a page at a time. */
@Injectable()
export class TokenHistoryHandler {
  private readonly history: PagedHistory;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.history = new PagedHistory(dataSource);
  }

  async handle(request: TokenHistoryRequest): Promise<TokenHistoryResponse> {
    const streamId = accessTokenStreamId(request.jti);
    const page = await this.history.page(request.page, {
      criteria: () => ({ streamIds: [streamId] }),
      exists: async () => (await this.store.readStream(streamId)).length > 0,
      unknown: 'no token with this jti',
    });
    return { jti: request.jti, ...page };
  }
}
