import { Inject, Injectable } from '@nestjs/common';
import { eventMetadata, type UserView } from '#lib/contracts';
import { eventsOrThrow } from '#lib/decider';
import { decideUser, noSuchUser, userStreamId } from '#lib/domain-user';
import { type EventStore, isExpectedVersionConflict } from '#lib/event-store';
import type { DataKeys } from '#lib/personal-data';
import { CLOCK, type Clock, DATA_KEYS, EVENT_STORE } from '#lib/service-runtime';
import { SessionRepository } from '../sessions/session-repository.js';
import type { Actor } from '../users/actor.js';
import { UserGrants } from '../users/user-grants.js';
import { erasedView, type UserRef, UserRepository } from '../users/user.repository.js';

const SUB = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * GDPR Art. 17 erasure by crypto-shredding: UserErased is recorded, the user's sessions end and
 * grants are revoked, then the user's data key is destroyed, after which every personal field of
 * their history reads as erased. Each step is safe to repeat: a retry after a failure finishes the
 * erasure and records nothing twice.
 */
@Injectable()
export class EraseUserHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DATA_KEYS) private readonly keys: DataKeys,
    private readonly users: UserRepository,
    private readonly grants: UserGrants,
    private readonly sessions: SessionRepository,
  ) {}

  async handle(ref: UserRef, by: Actor): Promise<UserView> {
    const sub = ref.sub ?? (ref.username !== undefined ? await this.users.subOf(ref.username) : null);
    if (typeof sub !== 'string' || !SUB.test(sub)) throw noSuchUser();
    const erased = await this.record(sub, by);
    await this.sessions.endAllOfUser(sub, 'user-erased', {
      actor: by.actor,
      context: {
        ...(by.correlationId !== undefined ? { correlationId: by.correlationId } : {}),
        ...(by.callerRequestId !== undefined ? { callerRequestId: by.callerRequestId } : {}),
      },
    });
    await this.grants.revoke(sub, null, 'user_disabled', by);
    await this.keys.erase(sub, new Date(erased.erasedAt));
    return erasedView({ sub, createdAt: erased.createdAt });
  }

  /** UserErased appended (or found, when a earlier request recorded it). */
  private async record(sub: string, by: Actor): Promise<{ createdAt: string; erasedAt: string }> {
    for (let attempt = 0; ; attempt++) {
      const { state, version } = await this.users.load(sub);
      if (state.status === 'none') throw noSuchUser();
      if (state.status === 'erased') return state;
      const events = eventsOrThrow(decideUser({ type: 'EraseUser', now: this.clock() }, state));
      try {
        await this.store.appendToStream(
          userStreamId(sub),
          version,
          events.map((e) => ({ ...e, metadata: eventMetadata(by, by.actor) })),
        );
      } catch (err) {
        if (!isExpectedVersionConflict(err) || attempt >= 3) throw err;
      }
    }
  }
}
