import { Inject, Injectable } from '@nestjs/common';
import type { GrantHistoryRequest, GrantHistoryResponse } from '#lib/contracts';
import { GRANT_FOLD, grantStreamId } from '#lib/domain-grant';
import { grantHistoryCriteria } from '#lib/domain-token';
import { type EventStore, loadAggregate } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { PagedHistory } from './paged-history.js';

/** A grant's history (grantHistoryCriteria, which needs the grant's owner), a page at a time. */
@Injectable()
export class GrantHistoryHandler {
  private readonly history: PagedHistory;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.history = new PagedHistory(dataSource);
  }

  async handle(request: GrantHistoryRequest): Promise<GrantHistoryResponse> {
    const page = await this.history.page(request.page, {
      criteria: async () => {
        const { state } = await loadAggregate(this.store, grantStreamId(request.grantId), GRANT_FOLD);
        if (state.status === 'none') throw notFound('no grant with this id');
        return grantHistoryCriteria(request.grantId, {
          sub: state.grant.sub,
          clientId: state.grant.clientId,
        });
      },
      // Known to exist once its criteria are: they come from its stream.
      exists: () => Promise.resolve(true),
      unknown: 'no grant with this id',
    });
    return { grantId: request.grantId, ...page };
  }
}
