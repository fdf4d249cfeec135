import { Inject, Injectable } from '@nestjs/common';
import type { UserView } from '#lib/contracts';
import type { PersonalDataConfig } from '#lib/config';
import {
  legacyUsernameStreamId,
  noSuchUser,
  subOfUsernameStream,
  USER_FOLD,
  type UserState,
  userStreamId,
  usernameStreamId,
} from '#lib/domain-user';
import { type EventStore, loadAggregate } from '#lib/event-store';
import { ERASED, usernameIndexKey } from '#lib/personal-data';
import { EVENT_STORE, PERSONAL_DATA_CONFIG } from '#lib/service-runtime';

/** A user who has not been erased. */
export type KnownUser = Exclude<UserState, { status: 'none' } | { status: 'erased' }>;
export type ActiveUser = Extract<UserState, { status: 'active' }>;
export interface UserRef {
  sub?: string;
  username?: string;
}

/** The user aggregate as the consent service reads it: by subject, or by username through its claim. */
@Injectable()
export class UserRepository {
  /** The key of the username index (libs/personal-data usernameIndexKey). */
  readonly indexKey: Buffer;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PERSONAL_DATA_CONFIG) personalData: PersonalDataConfig,
  ) {
    this.indexKey = usernameIndexKey(personalData.personalDataKey);
  }

  /** The username's index stream, and the one it had before the index was keyed. */
  usernameIndex(username: string): { current: string; legacy: string } {
    return { current: usernameStreamId(this.indexKey, username), legacy: legacyUsernameStreamId(username) };
  }

  /** One query either way (the legacy stream is the read's decoy), so the time taken does not tell which. */
  async subOf(username: string): Promise<string | null> {
    if (typeof username !== 'string' || username.length === 0 || username.length > 64) return null;
    const index = this.usernameIndex(username);
    return subOfUsernameStream(await this.store.readStream(index.current, { orElse: index.legacy }));
  }

  async load(sub: string): Promise<{ state: UserState; version: number }> {
    return loadAggregate(this.store, userStreamId(sub), USER_FOLD);
  }

  /** What an administrator reads of a user, erased ones included (pseudonymous). */
  async view(ref: UserRef): Promise<UserView> {
    const sub = ref.sub ?? (ref.username !== undefined ? await this.subOf(ref.username) : null);
    if (typeof sub === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(sub)) {
      const { state } = await this.load(sub);
      if (state.status === 'erased') return erasedView(state);
    }
    return viewOf((await this.resolve(ref)).state);
  }

  /** The user a reference names, or the not-found error. */
  async resolve(ref: UserRef): Promise<{ state: KnownUser; version: number }> {
    const sub = ref.sub ?? (ref.username !== undefined ? await this.subOf(ref.username) : null);
    if (typeof sub !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sub)) throw noSuchUser();
    const loaded = await this.load(sub);
    if (loaded.state.status === 'none' || loaded.state.status === 'erased') throw noSuchUser();
    return { state: loaded.state, version: loaded.version };
  }
}

/** An erased user: the sub and dates only (GDPR Art. 17). */
export function erasedView(state: { sub: string; createdAt: string }): UserView {
  return { sub: state.sub, username: ERASED, status: 'erased', createdAt: state.createdAt };
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
