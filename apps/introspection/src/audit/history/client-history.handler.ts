import { Inject, Injectable } from '@nestjs/common';
import type { ClientHistoryRequest, ClientHistoryResponse } from '#lib/contracts';
import { clientStreamId } from '#lib/domain-client';
import type { EventStore } from '#lib/event-store';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { PagedHistory } from './paged-history.js';

/**
 * A client's audit history: its own stream (registration, secret rotations), every event naming it
 * (`data.clientId`: the tokens issued to it) and every event it caused (`actor` client:<id>:
 * revocations it asked for), in global order. (The client registry's ClientStreamHistoryHandler
 * answers with the client's stream alone.)
 */
@Injectable()
export class ClientAuditHistoryHandler {
  private readonly history: PagedHistory;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.history = new PagedHistory(dataSource);
  }

  async handle(request: ClientHistoryRequest): Promise<ClientHistoryResponse> {
    const streamId = clientStreamId(request.clientId);
    const page = await this.history.page(request.page, {
      criteria: () => ({
        streamIds: [streamId],
        dataEquals: { field: 'clientId', value: request.clientId },
        actor: `client:${request.clientId}`,
      }),
      exists: async () => (await this.store.readStream(streamId)).length > 0,
      unknown: 'no client with this client_id',
    });
    return { clientId: request.clientId, ...page };
  }
}
