import { eventsOrThrow } from '#lib/decider';
import { Inject, Injectable } from '@nestjs/common';
import { eventMetadata } from '#lib/contracts';
import { consentStreamId, decideConsent, evolveConsent, initialConsentState } from '#lib/domain-consent';
import { aggregateStream, type EventStore, isExpectedVersionConflict } from '#lib/event-store';
import { CLOCK, type Clock, EVENT_STORE } from '#lib/service-runtime';
import type { Actor } from '../users/actor.js';
import { UserGrants } from '../users/user-grants.js';

/**
 * A user's consent to a client revoked, by the user (the account page) or an administrator. The
 * grants made under it are revoked with it, and their tokens with them (RFC 7009 §2.1).
 */
@Injectable()
export class RevokeConsentHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly grants: UserGrants,
  ) {}

  async handle(
    sub: string,
    clientId: string,
    by: Actor,
  ): Promise<{ revoked: boolean; grantsRevoked: number }> {
    let revoked = false;
    for (let attempt = 0; ; attempt++) {
      const streamId = consentStreamId(sub, clientId);
      const { state, version } = await aggregateStream(this.store, streamId, {
        evolve: evolveConsent,
        initial: initialConsentState,
      });
      const events = eventsOrThrow(
        decideConsent({ type: 'RevokeConsent', revokedBy: by.actor, now: this.clock() }, state),
      );
      if (events.length === 0) break;
      try {
        await this.store.appendToStream(
          streamId,
          version,
          events.map((e) => ({ ...e, metadata: eventMetadata(by, by.actor) })),
        );
        revoked = true;
        break;
      } catch (err) {
        if (!isExpectedVersionConflict(err) || attempt >= 3) throw err;
      }
    }
    const grantsRevoked = await this.grants.revoke(sub, clientId, 'consent_revoked', by);
    return { revoked, grantsRevoked };
  }
}
