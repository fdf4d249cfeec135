import { Inject, Injectable } from '@nestjs/common';
import type { AsOfRequest, SessionAsOfResponse } from '#lib/contracts';
import { SESSION_FOLD, sessionAsOfView, sessionStreamId, SID } from '#lib/domain-consent';
import { type EventStore, foldEvents } from '#lib/event-store';
import { invalidRequest, notFound } from '#lib/oauth-errors';
import { EVENT_STORE } from '#lib/service-runtime';
import { instant } from '../audit-request.js';

/** A browser session's state at an instant: its stream replayed up to the events recorded by then. */
@Injectable()
export class SessionAsOfHandler {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async handle(request: AsOfRequest): Promise<SessionAsOfResponse> {
    if (typeof request.id !== 'string' || !SID.test(request.id)) throw invalidRequest('malformed sid');
    const asOf = instant(request.asOf, 'as_of') ?? new Date();
    const events = await this.store.readStream(sessionStreamId(request.id), { upTo: asOf });
    const view = sessionAsOfView(foldEvents(SESSION_FOLD, events), asOf);
    if (view === null) throw notFound('no session with this sid at that instant');
    return view;
  }
}
