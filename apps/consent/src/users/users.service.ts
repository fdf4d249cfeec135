import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  eventMetadata,
  type RevokeUserGrantsRequest,
  type RevokeUserGrantsResponse,
  Subjects,
  type UserView,
} from '#lib/contracts';
import { consentStreamId, decideConsent, evolveConsent, initialConsentState } from '#lib/domain-consent';
import {
  checkEmail,
  checkPassword,
  checkUsername,
  claimUsername,
  decideUser,
  hashPassword,
  initialUserState,
  noSuchUser,
  subOfUsernameStream,
  type UserCommand,
  UserAlreadyExists,
  USER_FOLD,
  type UserState,
  userStreamId,
  usernameStreamId,
} from '#lib/domain-user';
import { aggregateStream, type EventStore, isExpectedVersionConflict, loadAggregate } from '#lib/event-store';
import { invalidRequest } from '#lib/oauth-errors';
import { EVENT_STORE, type RpcClient } from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';
import { SERVICE_RPC } from '../consent.tokens.js';
import { UserProjectionsService } from './user-projections.service.js';

export interface Actor {
  actor: string;
  correlationId?: string;
  /** The caller's own request id (untrusted, libs/contracts RequestContext). */
  callerRequestId?: string;
}

type KnownUser = Exclude<UserState, { status: 'none' }>;

/**
 * Resource owners: creation, password changes, disabling (which ends the user's sessions and
 * revokes the user's grants: RFC 9700 §4.14.2, a refresh token is bound to the user's
 * authorization), consents and their revocation (which revokes the grants made under them).
 * Every change is an event with the actor.
 */
@Injectable()
export class UsersService {
  private readonly logger = new Logger('Users');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    private readonly projections: UserProjectionsService,
  ) {}

  async subOf(username: string): Promise<string | null> {
    if (typeof username !== 'string' || username.length === 0 || username.length > 64) return null;
    return subOfUsernameStream(await this.store.readStream(usernameStreamId(username)));
  }

  async load(sub: string): Promise<{ state: UserState; version: number }> {
    return loadAggregate(this.store, userStreamId(sub), USER_FOLD);
  }

  async resolve(ref: { sub?: string; username?: string }): Promise<{ state: KnownUser; version: number }> {
    const sub = ref.sub ?? (ref.username !== undefined ? await this.subOf(ref.username) : null);
    if (typeof sub !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sub)) throw noSuchUser();
    const loaded = await this.load(sub);
    if (loaded.state.status === 'none') throw noSuchUser();
    return { state: loaded.state, version: loaded.version };
  }

  async create(
    input: { username: string; password: string; email?: string; name?: string },
    by: Actor,
  ): Promise<UserView> {
    const username = checkUsername(input.username);
    const password = checkPassword(input.password);
    const email = checkEmail(input.email);
    if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length > 200))
      throw invalidRequest('name is malformed');
    const sub = randomBytes(16).toString('base64url');
    const events = decideUser(
      {
        type: 'CreateUser',
        sub,
        username,
        ...(email !== undefined ? { email } : {}),
        ...(input.name ? { name: input.name } : {}),
        passwordHash: await hashPassword(password),
        now: new Date(),
      },
      initialUserState(),
    );
    const metadata = eventMetadata(by, by.actor);
    try {
      await this.store.appendMany([
        {
          streamId: usernameStreamId(username),
          expectedVersion: 0,
          events: [{ ...claimUsername(sub, username), metadata }],
        },
        { streamId: userStreamId(sub), expectedVersion: 0, events: events.map((e) => ({ ...e, metadata })) },
      ]);
    } catch (err) {
      if (isExpectedVersionConflict(err)) throw new UserAlreadyExists();
      throw err;
    }
    const { state } = await this.resolve({ sub });
    return viewOf(state);
  }

  async get(ref: { sub?: string; username?: string }): Promise<UserView> {
    return viewOf((await this.resolve(ref)).state);
  }

  /** Disabling or a new password ends the user's sessions and revokes every grant. */
  async change(
    ref: { sub?: string; username?: string },
    change: 'disable' | 'enable' | { password: string },
    by: Actor,
  ): Promise<UserView> {
    const passwordHash =
      typeof change === 'object' ? await hashPassword(checkPassword(change.password)) : undefined;
    const command = (now: Date): UserCommand =>
      change === 'disable'
        ? { type: 'DisableUser', now }
        : change === 'enable'
          ? { type: 'EnableUser', now }
          : { type: 'ChangePassword', passwordHash: passwordHash!, now };
    const state = await this.apply(ref, command, by);
    if (change !== 'enable') await this.revokeGrants(state.sub, null, 'user_disabled', by);
    return viewOf(state);
  }

  private async apply(
    ref: { sub?: string; username?: string },
    command: (now: Date) => UserCommand,
    by: Actor,
  ): Promise<KnownUser> {
    for (let attempt = 0; ; attempt++) {
      const { state, version } = await this.resolve(ref);
      const events = decideUser(command(new Date()), state);
      if (events.length === 0) return state;
      try {
        await this.store.appendToStream(
          userStreamId(state.sub),
          version,
          events.map((e) => ({ ...e, metadata: eventMetadata(by, by.actor) })),
        );
        return (await this.resolve({ sub: state.sub })).state;
      } catch (err) {
        if (!isExpectedVersionConflict(err) || attempt >= 3) throw err;
      }
    }
  }

  async consentsOf(sub: string): Promise<{ clientId: string; scope: string[]; grantedAt: string }[]> {
    const row = await this.projections.grantsOf(sub);
    return Object.entries(row?.consents ?? {})
      .map(([clientId, c]) => ({ clientId, scope: c.scope, grantedAt: c.grantedAt }))
      .sort((a, b) => a.clientId.localeCompare(b.clientId));
  }

  /** Revoking a consent revokes the grants made under it (their tokens with them). */
  async revokeConsent(
    sub: string,
    clientId: string,
    by: Actor,
  ): Promise<{ revoked: boolean; grantsRevoked: number }> {
    let revoked = false;
    for (let attempt = 0; ; attempt++) {
      const streamId = consentStreamId(sub, clientId);
      const { state, version } = await aggregateStream(
        this.store,
        streamId,
        evolveConsent,
        initialConsentState,
      );
      const events = decideConsent({ type: 'RevokeConsent', revokedBy: by.actor, now: new Date() }, state);
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
    const grantsRevoked = await this.revokeGrants(sub, clientId, 'consent_revoked', by);
    return { revoked, grantsRevoked };
  }

  /**
   * Every live grant of the user (and client) revoked, by the token service that owns them: the
   * grant ids come from this service's user-grants read model, the token service keeps to those
   * that are the user's.
   */
  async revokeGrants(
    sub: string,
    clientId: string | null,
    reason: 'user_disabled' | 'consent_revoked',
    by: Actor,
  ): Promise<number> {
    const row = await this.projections.grantsOf(sub);
    const grantIds = (row?.grants ?? [])
      .filter((g) => clientId === null || g.clientId === clientId)
      .map((g) => g.grantId);
    if (grantIds.length === 0) return 0;
    const request: RevokeUserGrantsRequest = {
      context: {
        ...(by.correlationId !== undefined ? { correlationId: by.correlationId } : {}),
        ...(by.callerRequestId !== undefined ? { callerRequestId: by.callerRequestId } : {}),
      },
      actor: by.actor,
      sub,
      clientId,
      reason,
      grantIds,
    };
    try {
      const { revoked } = await this.rpc.request<RevokeUserGrantsResponse>(
        Subjects.token.revokeGrants,
        request,
        by.correlationId,
      );
      return revoked;
    } catch (err) {
      this.logger.error({
        msg: `could not revoke the grants of ${sub}: ${String(err)}`,
        correlationId: by.correlationId,
      });
      throw err;
    }
  }

  async list(after: string | undefined, limit: number): Promise<{ users: UserView[]; next?: string }> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest('limit must be 1 to 100');
    const page = await this.projections.usersPage(after, limit);
    const users = page.map((p) => p.row);
    return page.length === limit ? { users, next: page[page.length - 1]!.key } : { users };
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
