import { Inject, Injectable } from '@nestjs/common';
import type { ClientHistoryResponse, AdminClientRequest } from '#lib/contracts';
import { clientStreamId } from '#lib/domain-client';
import type { EventStore } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { EVENT_STORE, toAuditEvent } from '#lib/service-runtime';

/**
 * One client's own stream, in order, each event with its actor (the registry's client.admin.history;
 * the introspection service's audit history adds the events naming the client).
 */
@Injectable()
export class ClientStreamHistoryHandler {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async handle(request: AdminClientRequest): Promise<ClientHistoryResponse> {
    const events = await this.store.readStream(clientStreamId(request.clientId));
    if (events.length === 0) throw notFound('no such client');
    return {
      clientId: request.clientId,
      events: events.map((e) => toAuditEvent(e)),
      next: null,
    };
  }
}
