import { Inject, Injectable } from '@nestjs/common';
import type { GrantHistoryRequest, GrantHistoryResponse } from '#lib/contracts';
import { GRANT_FOLD, grantStreamId } from '#lib/domain-grant';
import { grantHistoryCriteria } from '#lib/domain-token';
import { type EventStore, loadAggregate, PgAuditLog } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { pageBounds, toAuditEvent } from '../audit-event.js';

/** A grant's history (grantHistoryCriteria), in global order, a page at a time. */
@Injectable()
export class GrantHistoryHandler {
  private readonly log: PgAuditLog;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.log = new PgAuditLog(dataSource);
  }

  async handle(request: GrantHistoryRequest): Promise<GrantHistoryResponse> {
    const bounds = pageBounds(request.page);
    const { state } = await loadAggregate(this.store, grantStreamId(request.grantId), GRANT_FOLD);
    if (state.status === 'none') throw notFound('no grant with this id');
    const page = await this.log.query({
      ...bounds,
      ...grantHistoryCriteria(request.grantId, { sub: state.grant.sub, clientId: state.grant.clientId }),
    });
    return { grantId: request.grantId, events: page.events.map(toAuditEvent), next: page.next };
  }
}
