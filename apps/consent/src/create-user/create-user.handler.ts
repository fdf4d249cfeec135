import { eventsOrThrow } from '#lib/decider';
import { Inject, Injectable } from '@nestjs/common';
import { eventMetadata, type UserView } from '#lib/contracts';
import {
  checkEmail,
  checkPassword,
  checkUsername,
  claimUsername,
  decideUser,
  hashPassword,
  initialUserState,
  UserAlreadyExists,
  legacyUsernameStreamId,
  userStreamId,
  usernameStreamId,
} from '#lib/domain-user';
import { type EventStore, isExpectedVersionConflict } from '#lib/event-store';
import { invalidRequest } from '#lib/oauth-errors';
import { CLOCK, type Clock, EVENT_STORE, ID_GENERATOR, type IdGenerator } from '#lib/service-runtime';
import type { Actor } from '../users/actor.js';
import { UserRepository, viewOf } from '../users/user.repository.js';

export interface CreateUser {
  username: string;
  password: string;
  email?: string;
  name?: string;
}

/**
 * A new resource owner: the username claimed and the user created in one append, so that two
 * creations of one username cannot both succeed (the second is UserAlreadyExists).
 */
@Injectable()
export class CreateUserHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    private readonly users: UserRepository,
  ) {}

  async handle(input: CreateUser, by: Actor): Promise<UserView> {
    const username = checkUsername(input.username);
    const password = checkPassword(input.password);
    const email = checkEmail(input.email);
    if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length > 200))
      throw invalidRequest('name is malformed');
    const sub = this.newId();
    const events = eventsOrThrow(
      decideUser(
        {
          type: 'CreateUser',
          sub,
          username,
          ...(email !== undefined ? { email } : {}),
          ...(input.name ? { name: input.name } : {}),
          passwordHash: await hashPassword(password),
          now: this.clock(),
        },
        initialUserState(),
      ),
    );
    const metadata = eventMetadata(by, by.actor);
    try {
      await this.store.appendMany(
        [
          {
            streamId: usernameStreamId(this.users.indexKey, username),
            expectedVersion: 0,
            events: [{ ...claimUsername(sub, username), metadata }],
          },
          {
            streamId: userStreamId(sub),
            expectedVersion: 0,
            events: events.map((e) => ({ ...e, metadata })),
          },
        ],
        // A name claimed before the index was keyed stays taken.
        { expect: [{ streamId: legacyUsernameStreamId(username), version: 0 }] },
      );
    } catch (err) {
      if (isExpectedVersionConflict(err)) throw new UserAlreadyExists();
      throw err;
    }
    const { state } = await this.users.resolve({ sub });
    return viewOf(state);
  }
}
