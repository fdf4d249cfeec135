import { eventsOrThrow } from '#lib/decider';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { eventMetadata, type RequestContext } from '#lib/contracts';
import { type CheckPassword, decideUser, type UserState, userStreamId } from '#lib/domain-user';
import type { EventStore } from '#lib/event-store';
import { sourceAddressKey } from '#lib/oauth-protocol';
import { EVENT_STORE } from '#lib/service-runtime';
import type { ActiveUser, KnownUser } from '../users/user.repository.js';
import { UserRepository } from '../users/user.repository.js';
import { LoginThrottleService } from './login-throttle.service.js';

export type CredentialCheck =
  | { outcome: 'throttled'; retryAfterSeconds: number }
  | { outcome: 'failed' }
  | { outcome: 'succeeded'; user: ActiveUser; version: number };

export interface Attempt {
  username: string;
  password: string;
  context: RequestContext;
  now: Date;
}

/** A username and password checked against the user aggregate, and the login recorded on it. */
@Injectable()
export class LoginCredentials {
  private readonly logger = new Logger('FrontChannel');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly users: UserRepository,
    private readonly throttle: LoginThrottleService,
  ) {}

  /**
   * RFC 6749 §10.10 (credentials guessing): the attempt is counted, per account and per source
   * address in the table every replica shares, before the password is checked, or refused with the
   * wait; a right password takes its count back. An unknown user costs one argon2 check too, so that
   * the time taken does not tell which usernames exist.
   */
  async check(attempt: Attempt, checkPassword: CheckPassword): Promise<CredentialCheck> {
    const { username, password, context, now } = attempt;
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const reservation = await this.throttle.attempts.reserve(
      username,
      sourceAddressKey(context.ip),
      nowSeconds,
    );
    if (!reservation.allowed)
      return { outcome: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
    let loaded: { state: UserState; version: number } | null;
    let user: KnownUser | null;
    let passwordOk: boolean;
    try {
      const sub = username === '' ? null : await this.users.subOf(username);
      loaded = sub === null ? null : await this.users.load(sub);
      // An erased user is checked as an unknown one: nothing of theirs is left to check against.
      const state = loaded?.state;
      user = state === undefined || state.status === 'none' || state.status === 'erased' ? null : state;
      passwordOk = await checkPassword(user?.passwordHash ?? null, password);
    } catch (err) {
      // A failure of ours is not the user's failure: the attempt is not counted.
      await this.throttle.attempts.withdraw(reservation.attempt).catch(() => undefined);
      throw err;
    }
    if (!passwordOk || user === null || user.status !== 'active') {
      if (user !== null) {
        // Recorded after the answer is decided, so that a known user's failure costs what an unknown one's does.
        const outcome = passwordOk ? 'disabled' : 'wrong_password';
        void this.record(user, loaded!.version, outcome, context, now);
      }
      return { outcome: 'failed' };
    }
    await this.throttle.attempts.succeeded(reservation.attempt).catch((err: unknown) => {
      this.logger.warn({
        msg: `could not clear the login throttle after a login: ${String(err)}`,
        correlationId: context.correlationId,
      });
    });
    return { outcome: 'succeeded', user, version: loaded!.version };
  }

  /** The login on the user's stream; a failed login that cannot be recorded is logged, not refused. */
  async record(
    user: KnownUser,
    version: number,
    outcome: 'success' | 'wrong_password' | 'disabled',
    context: RequestContext,
    now: Date,
    clientId?: string,
  ): Promise<void> {
    const events = eventsOrThrow(
      decideUser(
        { type: 'RecordLogin', outcome, now, ...(clientId !== undefined ? { clientId } : {}) },
        user,
      ),
    );
    const metadata = eventMetadata(context, `user:${user.sub}`);
    try {
      await this.store.appendToStream(
        userStreamId(user.sub),
        'any',
        events.map((e) => ({ ...e, metadata })),
      );
    } catch (err) {
      if (outcome === 'success') throw err;
      this.logger.warn({
        msg: `could not record a failed login (version ${version}): ${String(err)}`,
        correlationId: metadata.correlationId,
      });
    }
  }
}
