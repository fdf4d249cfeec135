import { Inject, Injectable } from '@nestjs/common';
import type { ClientHistoryRequest, ClientHistoryResponse } from '#lib/contracts';
import { clientStreamId } from '#lib/domain-client';
import { type EventStore, PgAuditLog } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { pageBounds, toAuditEvent } from '../audit-event.js';

/**
 * A client's history: its own stream (registration, secret rotations), every event naming it
 * (`data.clientId`: the tokens issued to it) and every event it caused (`actor` client:<id>:
 * revocations it asked for), in global order.
 */
@Injectable()
export class ClientHistoryHandler {
  private readonly log: PgAuditLog;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATA_SOURCE) dataSource: DataSource,
  ) {
    this.log = new PgAuditLog(dataSource);
  }

  async handle(request: ClientHistoryRequest): Promise<ClientHistoryResponse> {
    const streamId = clientStreamId(request.clientId);
    const page = await this.log.query({
      ...pageBounds(request.page),
      streamIds: [streamId],
      dataEquals: { field: 'clientId', value: request.clientId },
      actor: `client:${request.clientId}`,
    });
    if (page.events.length === 0 && (await this.store.readStream(streamId)).length === 0) {
      throw notFound('no client with this client_id');
    }
    return { clientId: request.clientId, events: page.events.map(toAuditEvent), next: page.next };
  }
}
