import { Inject, Injectable } from '@nestjs/common';
import type { AsOfRequest, GrantAsOfResponse } from '#lib/contracts';
import { grantStreamId } from '#lib/domain-grant';
import { grantAsOfView } from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { EVENT_STORE } from '#lib/service-runtime';
import { instant } from '../audit-request.js';

/** A grant's state at an instant: its stream replayed up to the events recorded by then. */
@Injectable()
export class GrantAsOfHandler {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async handle(request: AsOfRequest): Promise<GrantAsOfResponse> {
    const asOf = instant(request.asOf, 'as_of') ?? new Date();
    const events = await this.store.readStream(grantStreamId(request.id), { upTo: asOf });
    const view = grantAsOfView(events, asOf);
    if (view === null) throw notFound('no grant with this id at that instant');
    return view;
  }
}
