import { Inject, Injectable } from '@nestjs/common';
import type { AsOfRequest, SessionAsOfResponse } from '#lib/contracts';
import { SESSION_FOLD, sessionAsOfView, sessionStreamId, SID } from '#lib/domain-consent';
import { userStreamId } from '#lib/domain-user';
import { type EventStore, foldEvents, type RecordedEvent } from '#lib/event-store';
import { invalidRequest, notFound } from '#lib/oauth-errors';
import { ERASED, isSealed } from '#lib/personal-data';
import { EVENT_STORE, SEALED_PERSONAL_DATA } from '#lib/service-runtime';
import { instant } from '../audit-request.js';

/** A browser session's state at an instant: its stream replayed up to the events recorded by then. */
@Injectable()
export class SessionAsOfHandler {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async handle(request: AsOfRequest): Promise<SessionAsOfResponse> {
    if (typeof request.id !== 'string' || !SID.test(request.id)) throw invalidRequest('malformed sid');
    const asOf = instant(request.asOf, 'as_of') ?? new Date();
    const events = await this.masked(
      await this.store.readStream(sessionStreamId(request.id), { upTo: asOf }),
    );
    const view = sessionAsOfView(foldEvents(SESSION_FOLD, events), asOf);
    if (view === null) throw notFound('no session with this sid at that instant');
    return view;
  }

  /**
   * The device facts of SessionStarted are sealed under the user's data key, which only the consent
   * service opens (docs/privacy-and-retention.md): shown as personal data, or as erased once the
   * user is.
   */
  private async masked(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const started = events.find((e) => e.type === 'SessionStarted');
    const data = started?.data as { sub?: unknown; userAgent?: unknown } | undefined;
    if (!started || !isSealed(data?.userAgent) || typeof data?.sub !== 'string') return events;
    const erased = await this.store.streamHasEvent(userStreamId(data.sub), {
      types: ['UserErased'],
      field: 'sub',
      equals: data.sub,
    });
    const label = erased ? ERASED : SEALED_PERSONAL_DATA;
    return events.map((e) =>
      e === started ? { ...e, data: { ...data, userAgent: { browser: label, os: label } } } : e,
    );
  }
}
