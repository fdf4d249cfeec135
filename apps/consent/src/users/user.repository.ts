import { Inject, Injectable } from '@nestjs/common';
import type { UserView } from '#lib/contracts';
import {
  noSuchUser,
  subOfUsernameStream,
  USER_FOLD,
  type UserState,
  userStreamId,
  usernameStreamId,
} from '#lib/domain-user';
import { type EventStore, loadAggregate } from '#lib/event-store';
import { EVENT_STORE } from '#lib/service-runtime';

export type KnownUser = Exclude<UserState, { status: 'none' }>;
export type ActiveUser = Extract<UserState, { status: 'active' }>;
export interface UserRef {
  sub?: string;
  username?: string;
}

/** The user aggregate as the consent service reads it: by subject, or by username through its claim. */
@Injectable()
export class UserRepository {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async subOf(username: string): Promise<string | null> {
    if (typeof username !== 'string' || username.length === 0 || username.length > 64) return null;
    return subOfUsernameStream(await this.store.readStream(usernameStreamId(username)));
  }

  async load(sub: string): Promise<{ state: UserState; version: number }> {
    return loadAggregate(this.store, userStreamId(sub), USER_FOLD);
  }

  /** The user a reference names, or the not-found error. */
  async resolve(ref: UserRef): Promise<{ state: KnownUser; version: number }> {
    const sub = ref.sub ?? (ref.username !== undefined ? await this.subOf(ref.username) : null);
    if (typeof sub !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sub)) throw noSuchUser();
    const loaded = await this.load(sub);
    if (loaded.state.status === 'none') throw noSuchUser();
    return { state: loaded.state, version: loaded.version };
  }
}

export function viewOf(state: KnownUser): UserView {
  return {
    sub: state.sub,
    username: state.username,
    ...(state.email !== undefined ? { email: state.email } : {}),
    ...(state.name !== undefined ? { name: state.name } : {}),
    status: state.status,
    createdAt: state.createdAt,
  };
}
