import { Inject, Injectable } from '@nestjs/common';
import type { AsOfRequest, ClientAsOfResponse } from '#lib/contracts';
import { clientStreamId, clientView, CLIENT_FOLD } from '#lib/domain-client';
import { type EventStore, foldEvents } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { EVENT_STORE } from '#lib/service-runtime';
import { instant } from '../audit-request.js';

/** A client's registration at an instant: its stream replayed up to the events recorded by then. */
@Injectable()
export class ClientAsOfHandler {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async handle(request: AsOfRequest): Promise<ClientAsOfResponse> {
    const asOf = instant(request.asOf, 'as_of') ?? new Date();
    const events = await this.store.readStream(clientStreamId(request.id), { upTo: asOf });
    const state = foldEvents(CLIENT_FOLD, events);
    if (state.status === 'unregistered') throw notFound('no client with this client_id at that instant');
    return {
      asOf: asOf.toISOString(),
      client: clientView(state),
      position: events[events.length - 1]!.globalPosition,
    };
  }
}
