import type { AggregateFold, NewEvent, RecordedEvent } from '#lib/event-store';
import { accept, type Decider, type Decision, type Recorded, refuse } from '#lib/decider';
import { invalidRequest, notFound, OAuthError } from '#lib/oauth-errors';
import { type PersonalFields, usernameIndexId } from '#lib/personal-data';

/**
 * A resource owner (RFC 6749 §1.1), owned by the consent service: stream `user-<sub>`, where `sub`
 * is a random id, never the username. A username is claimed through its own stream
 * `username-<base64url(lower-cased username)>`, appended with expected version 0 together with
 * UserCreated, so the event store decides a race between two creations of one name.
 * Passwords are stored only as argon2id hashes (computed by the caller: hashing is I/O-like work).
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> active: UserCreated
 *   active --> active: UserPasswordChanged, UserAuthenticated, UserLoginFailed
 *   active --> disabled: UserDisabled
 *   disabled --> active: UserEnabled
 *   active --> erased: UserErased
 *   disabled --> erased: UserErased
 * ```
 *
 * Personal fields (USER_PERSONAL_FIELDS) are sealed under the user's data key when stored
 * (libs/personal-data); after UserErased the key is destroyed and they read as erased.
 */
export const userStreamId = (sub: string) => `user-${sub}`;
/** The username index stream: a keyed hash of the name (libs/personal-data usernameIndexId), never the name. */
export const usernameStreamId = (indexKey: Buffer, username: string) =>
  `username-${usernameIndexId(indexKey, username)}`;
/** The index stream of usernames claimed before the index was keyed: base64url of the name. */
export const legacyUsernameStreamId = (username: string) =>
  `username-${Buffer.from(username.toLowerCase()).toString('base64url')}`;

const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;
const EMAIL = /^[^\s@<>"]{1,64}@[^\s@<>"]{1,190}$/;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export function checkUsername(username: unknown): string {
  if (typeof username !== 'string' || !USERNAME.test(username))
    throw invalidRequest('username must be 1 to 64 letters, digits or . _ @ + -');
  return username;
}

/** Minimum length only (NIST SP 800-63B §5.1.1.2: no composition rules); an upper bound against hashing abuse. */
export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH)
    throw invalidRequest(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw invalidRequest('password too long');
  return password;
}

export function checkEmail(email: unknown): string | undefined {
  if (email === undefined || email === null || email === '') return undefined;
  if (typeof email !== 'string' || !EMAIL.test(email)) throw invalidRequest('email is malformed');
  return email;
}

// ---------------------------------------------------------------- events

export interface UserCreated {
  type: 'UserCreated';
  data: {
    sub: string;
    username: string;
    email?: string;
    name?: string;
    passwordHash: string;
    createdAt: string;
  };
}
export interface UsernameClaimed {
  type: 'UsernameClaimed';
  data: { sub: string; username: string };
}
export interface UserPasswordChanged {
  type: 'UserPasswordChanged';
  data: { sub: string; passwordHash: string; changedAt: string };
}
export interface UserDisabled {
  type: 'UserDisabled';
  data: { sub: string; disabledAt: string };
}
export interface UserEnabled {
  type: 'UserEnabled';
  data: { sub: string; enabledAt: string };
}
export interface UserAuthenticated {
  type: 'UserAuthenticated';
  data: { sub: string; username: string; at: string; clientId?: string };
}
export interface UserLoginFailed {
  type: 'UserLoginFailed';
  data: { sub: string; username: string; at: string; reason: 'wrong_password' | 'disabled' };
}

/**
 * The person is forgotten (GDPR Art. 17): their data key is destroyed with this event, so every
 * personal field of their history reads as erased; the sub stays, pseudonymous.
 */
export interface UserErased {
  type: 'UserErased';
  data: { sub: string; erasedAt: string };
}

export type UserEvent =
  | UserCreated
  | UserPasswordChanged
  | UserDisabled
  | UserEnabled
  | UserAuthenticated
  | UserLoginFailed
  | UserErased;

/**
 * Every event type of `user-*` streams (a Record over the union: a type added to the union and not
 * here does not compile; the published-events contract in libs/contracts is checked against every
 * `*_EVENT_TYPES` array).
 */
const userEventTypes: Record<UserEvent['type'], true> = {
  UserCreated: true,
  UserPasswordChanged: true,
  UserDisabled: true,
  UserEnabled: true,
  UserAuthenticated: true,
  UserLoginFailed: true,
  UserErased: true,
};
export const USER_EVENT_TYPES = Object.keys(userEventTypes) as readonly UserEvent['type'][];

const usernameEventTypes: Record<UsernameClaimed['type'], true> = { UsernameClaimed: true };
/** The event types of `username-*` streams. */
export const USERNAME_EVENT_TYPES = Object.keys(usernameEventTypes) as readonly UsernameClaimed['type'][];

// ---------------------------------------------------------------- state

interface UserFacts {
  sub: string;
  username: string;
  email?: string;
  name?: string;
  passwordHash: string;
  createdAt: string;
  /** Login sessions that began before this instant (ms) are no longer valid (RFC 9700 §4.14.2). */
  credentialsChangedAt: number;
}

export type UserState =
  | { status: 'none' }
  | ({ status: 'active' } & UserFacts)
  | ({ status: 'disabled' } & UserFacts)
  | { status: 'erased'; sub: string; createdAt: string; erasedAt: string };

export const initialUserState = (): UserState => ({ status: 'none' });

// ---------------------------------------------------------------- commands

export interface CreateUser {
  type: 'CreateUser';
  sub: string;
  username: string;
  email?: string;
  name?: string;
  passwordHash: string;
  now: Date;
}
export interface ChangePassword {
  type: 'ChangePassword';
  passwordHash: string;
  now: Date;
}
export interface DisableUser {
  type: 'DisableUser';
  now: Date;
}
export interface EnableUser {
  type: 'EnableUser';
  now: Date;
}
export interface RecordLogin {
  type: 'RecordLogin';
  outcome: 'success' | UserLoginFailed['data']['reason'];
  clientId?: string;
  now: Date;
}

export interface EraseUser {
  type: 'EraseUser';
  now: Date;
}

export type UserCommand = CreateUser | ChangePassword | DisableUser | EnableUser | RecordLogin | EraseUser;

export class UserAlreadyExists extends OAuthError {
  constructor() {
    super('invalid_request', 'a user with this username already exists', { status: 409 });
  }
}

export const noSuchUser = () => notFound('no such user');

export function decideUser(command: UserCommand, state: UserState): Decision {
  if (command.type === 'CreateUser') {
    if (state.status !== 'none') return refuse(new UserAlreadyExists());
    const created: UserCreated = {
      type: 'UserCreated',
      data: {
        sub: command.sub,
        username: checkUsername(command.username),
        ...(command.email !== undefined ? { email: command.email } : {}),
        ...(command.name !== undefined ? { name: command.name } : {}),
        passwordHash: command.passwordHash,
        createdAt: command.now.toISOString(),
      },
    };
    return accept([created]);
  }
  if (state.status === 'none') return refuse(noSuchUser());
  if (state.status === 'erased') {
    // Erasing again changes nothing; an erased user is otherwise gone.
    return command.type === 'EraseUser' ? accept([]) : refuse(noSuchUser());
  }
  const sub = state.sub;
  switch (command.type) {
    case 'EraseUser':
      return accept([
        { type: 'UserErased', data: { sub, erasedAt: command.now.toISOString() } } satisfies UserErased,
      ]);
    case 'ChangePassword':
      return accept([
        {
          type: 'UserPasswordChanged',
          data: { sub, passwordHash: command.passwordHash, changedAt: command.now.toISOString() },
        } satisfies UserPasswordChanged,
      ]);
    case 'DisableUser':
      if (state.status === 'disabled') return accept([]);
      return accept([
        { type: 'UserDisabled', data: { sub, disabledAt: command.now.toISOString() } } satisfies UserDisabled,
      ]);
    case 'EnableUser':
      if (state.status === 'active') return accept([]);
      return accept([
        { type: 'UserEnabled', data: { sub, enabledAt: command.now.toISOString() } } satisfies UserEnabled,
      ]);
    case 'RecordLogin': {
      const at = command.now.toISOString();
      if (command.outcome === 'success') {
        if (state.status !== 'active') throw new Error('a disabled user cannot log in');
        return accept([
          {
            type: 'UserAuthenticated',
            data: {
              sub,
              username: state.username,
              at,
              ...(command.clientId !== undefined ? { clientId: command.clientId } : {}),
            },
          } satisfies UserAuthenticated,
        ]);
      }
      return accept([
        {
          type: 'UserLoginFailed',
          data: { sub, username: state.username, at, reason: command.outcome },
        } satisfies UserLoginFailed,
      ]);
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

export function evolveUser(state: UserState, e: Recorded<UserEvent>): UserState {
  switch (e.type) {
    case 'UserCreated':
      return {
        status: 'active',
        sub: e.data.sub,
        username: e.data.username,
        ...(e.data.email !== undefined ? { email: e.data.email } : {}),
        ...(e.data.name !== undefined ? { name: e.data.name } : {}),
        passwordHash: e.data.passwordHash,
        createdAt: e.data.createdAt,
        credentialsChangedAt: Date.parse(e.data.createdAt),
      };
    case 'UserPasswordChanged':
      if (state.status === 'none' || state.status === 'erased') return state;
      return {
        ...state,
        passwordHash: e.data.passwordHash,
        credentialsChangedAt: Date.parse(e.data.changedAt),
      };
    case 'UserDisabled':
      if (state.status === 'none' || state.status === 'erased') return state;
      return { ...state, status: 'disabled', credentialsChangedAt: Date.parse(e.data.disabledAt) };
    case 'UserEnabled':
      if (state.status === 'none' || state.status === 'erased') return state;
      return { ...state, status: 'active' };
    case 'UserAuthenticated':
    case 'UserLoginFailed':
      return state;
    case 'UserErased':
      if (state.status === 'none' || state.status === 'erased') return state;
      return { status: 'erased', sub: state.sub, createdAt: state.createdAt, erasedAt: e.data.erasedAt };
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}

/** The username index stream's one event, appended with UserCreated (expected version 0). */
export function claimUsername(sub: string, username: string): NewEvent {
  return { type: 'UsernameClaimed', data: { sub, username } } satisfies UsernameClaimed;
}

export function subOfUsernameStream(events: readonly RecordedEvent[]): string | null {
  const claim = events.find((e) => e.type === 'UsernameClaimed');
  return claim ? (claim.data as UsernameClaimed['data']).sub : null;
}

/** A login session is valid while the user is active and its credentials unchanged since it began. */
export function sessionStillValid(state: UserState, authTimeMs: number): boolean {
  return state.status === 'active' && authTimeMs >= state.credentialsChangedAt;
}

/** Names the shape of UserState in stream snapshots; change it with the state. */
export const USER_STATE_SCHEMA = 'user/1';

const PROFILE = ['username', 'email', 'name', 'passwordHash'] as const;

/** The personal fields of user events and snapshots, sealed under the user's data key. */
export const USER_PERSONAL_FIELDS: PersonalFields = {
  events: {
    UserCreated: PROFILE,
    UsernameClaimed: ['username'],
    UserPasswordChanged: ['passwordHash'],
    UserAuthenticated: ['username'],
    UserLoginFailed: ['username'],
  },
  snapshots: { [USER_STATE_SCHEMA]: PROFILE },
};

/**
 * How `user-*` streams are folded and snapshotted (loadAggregate): a user's stream grows with every
 * login (UserAuthenticated, UserLoginFailed), and a session check must not replay them all.
 */
export const USER_FOLD: AggregateFold<UserState> = {
  schema: USER_STATE_SCHEMA,
  evolve: evolveUser,
  initial: initialUserState,
  snapshotEvery: 100,
};

/** The user aggregate (`user-*` streams) as a decider. */
export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  decide: decideUser,
  evolve: evolveUser,
  initialState: initialUserState,
};
