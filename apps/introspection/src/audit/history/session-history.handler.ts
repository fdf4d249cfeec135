import { Inject, Injectable } from '@nestjs/common';
import type { SessionHistoryRequest, SessionHistoryResponse } from '#lib/contracts';
import { sessionStreamId, SID } from '#lib/domain-consent';
import type { EventStore } from '#lib/event-store';
import { invalidRequest } from '#lib/oauth-errors';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { PagedHistory } from './paged-history.js';

/** A browser session's history: its own stream, a page at a time. */
@Injectable()
export class SessionHistoryHandler {
  private readonly history: PagedHistory;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.history = new PagedHistory(dataSource);
  }

  async handle(request: SessionHistoryRequest): Promise<SessionHistoryResponse> {
    if (typeof request.sid !== 'string' || !SID.test(request.sid)) throw invalidRequest('malformed sid');
    const streamId = sessionStreamId(request.sid);
    const page = await this.history.page(request.page, {
      criteria: () => ({ streamIds: [streamId] }),
      exists: async () => (await this.store.readStream(streamId)).length > 0,
      unknown: 'no session with this sid',
    });
    return { sid: request.sid, ...page };
  }
}
