import { Inject, Injectable } from '@nestjs/common';
import type { TokenHistoryRequest, TokenHistoryResponse } from '#lib/contracts';
import { accessTokenStreamId } from '#lib/domain-token';
import { type EventStore, PgAuditLog } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { pageBounds, toAuditEvent } from '../audit-event.js';

/** The audit view of one token: its stream, in order, straight from the event store, a page at a time. */
@Injectable()
export class TokenHistoryHandler {
  private readonly log: PgAuditLog;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.log = new PgAuditLog(dataSource);
  }

  async handle(request: TokenHistoryRequest): Promise<TokenHistoryResponse> {
    const streamId = accessTokenStreamId(request.jti);
    const page = await this.log.query({ ...pageBounds(request.page), streamIds: [streamId] });
    if (page.events.length === 0 && (await this.store.readStream(streamId)).length === 0) {
      throw notFound('no token with this jti');
    }
    return { jti: request.jti, events: page.events.map(toAuditEvent), next: page.next };
  }
}
