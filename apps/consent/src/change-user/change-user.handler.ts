import { eventsOrThrow } from '#lib/decider';
import { Inject, Injectable } from '@nestjs/common';
import { eventMetadata, type UserView } from '#lib/contracts';
import { checkPassword, decideUser, hashPassword, type UserCommand, userStreamId } from '#lib/domain-user';
import { type EventStore, isExpectedVersionConflict } from '#lib/event-store';
import { CLOCK, type Clock, EVENT_STORE } from '#lib/service-runtime';
import { SessionRepository } from '../sessions/session-repository.js';
import type { Actor } from '../users/actor.js';
import { UserGrants } from '../users/user-grants.js';
import { type KnownUser, type UserRef, UserRepository, viewOf } from '../users/user.repository.js';

export type UserChange = 'disable' | 'enable' | { password: string };

/**
 * Disabling a user, enabling one, a new password. Disabling or a new password ends the user's
 * sessions and revokes every grant (RFC 9700 §4.14.2: a refresh token is bound to the user's
 * authorization).
 */
@Injectable()
export class ChangeUserHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly users: UserRepository,
    private readonly grants: UserGrants,
    private readonly sessions: SessionRepository,
  ) {}

  async handle(ref: UserRef, change: UserChange, by: Actor): Promise<UserView> {
    const passwordHash =
      typeof change === 'object' ? await hashPassword(checkPassword(change.password)) : undefined;
    const command = (now: Date): UserCommand =>
      change === 'disable'
        ? { type: 'DisableUser', now }
        : change === 'enable'
          ? { type: 'EnableUser', now }
          : { type: 'ChangePassword', passwordHash: passwordHash!, now };
    const state = await this.apply(ref, command, by);
    if (change !== 'enable') {
      // The session checks refuse them already (the user's state); their streams say so too.
      const reason = change === 'disable' ? 'user-disabled' : 'password-changed';
      await this.sessions.endAllOfUser(state.sub, reason, {
        actor: by.actor,
        context: {
          ...(by.correlationId !== undefined ? { correlationId: by.correlationId } : {}),
          ...(by.callerRequestId !== undefined ? { callerRequestId: by.callerRequestId } : {}),
        },
      });
      await this.grants.revoke(state.sub, null, 'user_disabled', by);
    }
    return viewOf(state);
  }

  /** Decided on the current state; re-decided (at most three more times) when another append came first. */
  private async apply(ref: UserRef, command: (now: Date) => UserCommand, by: Actor): Promise<KnownUser> {
    for (let attempt = 0; ; attempt++) {
      const { state, version } = await this.users.resolve(ref);
      const events = eventsOrThrow(decideUser(command(this.clock()), state));
      if (events.length === 0) return state;
      try {
        await this.store.appendToStream(
          userStreamId(state.sub),
          version,
          events.map((e) => ({ ...e, metadata: eventMetadata(by, by.actor) })),
        );
        return (await this.users.resolve({ sub: state.sub })).state;
      } catch (err) {
        if (!isExpectedVersionConflict(err) || attempt >= 3) throw err;
      }
    }
  }
}
