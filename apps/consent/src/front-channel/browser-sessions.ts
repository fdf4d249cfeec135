import { Inject, Injectable } from '@nestjs/common';
import type { ConsentConfig, CookieKeysConfig } from '#lib/config';
import type { BrowserState, CookieToSet, RequestContext } from '#lib/contracts';
import { CsrfTokens, type LoginSession, Sealer, type Transaction } from '#lib/domain-authorization';
import { isActive, type SessionState, userAgentFacts } from '#lib/domain-consent';
import { sessionStillValid } from '#lib/domain-user';
import {
  CLOCK,
  type Clock,
  CONSENT_CONFIG,
  COOKIE_KEYS_CONFIG,
  ID_GENERATOR,
  type IdGenerator,
} from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';
import { SessionRepository } from '../sessions/session-repository.js';
import { type ActiveUser, UserRepository } from '../users/user.repository.js';

/** RFC 8176 §2 `pwd`: the one authentication method offered. */
export const PASSWORD_AMR = ['pwd'];
/**
 * OpenID Connect Core §2 acr: ISO/IEC 29115 level 1 (single-factor authentication by password);
 * what acr_values asks for is recorded in the request, and this is what is reported.
 */
export const PASSWORD_ACR = '1';

/** The browser's login session, opened and checked against the user's current state. */
export interface Session {
  cookie: string;
  session: LoginSession;
  /** The session's stream as read for this request (active). */
  state: Extract<SessionState, { status: 'active' }>;
  user: ActiveUser;
}

/** A transaction of a kind, before its id and expiry are given. */
export type TransactionBody = WithoutIdAndExpiry<Transaction>;
type WithoutIdAndExpiry<T> = T extends unknown ? Omit<T, 'id' | 'exp'> : never;

/**
 * What the front channel keeps in the browser, sealed (a JWE, A256GCM under COOKIE_SEALING_KEYS, one
 * derived key per purpose): the authorization transaction carried through the login and consent
 * forms, and the login session cookie. The CSRF tokens of those forms (RFC 6749 §10.12) too.
 */
@Injectable()
export class BrowserSessions {
  private readonly transactions: Sealer;
  private readonly sessions: Sealer;
  readonly csrf: CsrfTokens;

  constructor(
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(COOKIE_KEYS_CONFIG) keys: CookieKeysConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    private readonly users: UserRepository,
    readonly store: SessionRepository,
  ) {
    this.transactions = new Sealer(keys.cookieSealingKeys, 'authorization-transaction');
    this.sessions = new Sealer(keys.cookieSealingKeys, 'login-session');
    this.csrf = new CsrfTokens(keys.csrfKeys);
  }

  /** A new transaction with its id, valid for AUTHORIZATION_REQUEST_TTL_SECONDS. */
  newTransaction(body: TransactionBody): Transaction {
    const exp = this.clock().getTime() + this.config.authorizationRequestTtlSeconds * 1000;
    return { ...body, id: this.newId(), exp } as Transaction;
  }

  sealTransaction(tx: Transaction): Promise<string> {
    return this.transactions.seal(tx);
  }

  /** The transaction a form carries, or null when it was altered or has expired. */
  openTransaction(sealed: unknown): Promise<Transaction | null> {
    return this.transactions.open<Transaction>(sealed, this.clock().getTime());
  }

  /**
   * The session of this cookie, if its stream still stands (not ended, not expired) for the user
   * the cookie names, and the user's current state still admits it.
   */
  async current(cookie: string | undefined): Promise<Session | null> {
    const now = this.clock();
    const session = await this.sessions.open<LoginSession>(cookie, now.getTime());
    if (session === null || typeof session.sub !== 'string' || typeof session.sid !== 'string') return null;
    const { state: stream } = await this.store.load(session.sid);
    if (!isActive(stream, now) || stream.sub !== session.sub) return null;
    const { state } = await this.users.load(session.sub);
    // Disabling the user or a new password ends the session (RFC 9700 §4.14.2 by analogy).
    if (!sessionStillValid(state, stream.authTime)) return null;
    return { cookie: cookie!, session, state: stream, user: state as ActiveUser };
  }

  /**
   * A new session for a login at `authTime`: a new random sid (256 bits) and its stream at every
   * login, no session fixation (OWASP ASVS V3.2.1); the browser's previous session, if any, ends.
   */
  async startSession(
    sub: string,
    authTime: Date,
    browser: BrowserState,
    context: RequestContext,
  ): Promise<CookieToSet> {
    const caller = { actor: `user:${sub}`, context };
    const previous = await this.current(browser.session);
    if (previous !== null)
      await this.store.change(
        previous.session.sid,
        { type: 'EndSession', reason: 'replaced', endedBy: caller.actor, now: authTime },
        caller,
      );
    const sid = randomBytes(32).toString('base64url');
    const ttlSeconds = this.config.loginSessionTtlSeconds;
    await this.store.change(
      sid,
      {
        type: 'StartSession',
        sid,
        sub,
        authTime,
        amr: PASSWORD_AMR,
        acr: PASSWORD_ACR,
        userAgent: userAgentFacts(browser.userAgent),
        ttlSeconds,
        now: authTime,
      },
      caller,
    );
    const session: LoginSession = {
      sid,
      sub,
      authTime: authTime.getTime(),
      exp: authTime.getTime() + ttlSeconds * 1000,
    };
    return {
      name: 'session',
      value: await this.sessions.seal(session),
      maxAgeSeconds: ttlSeconds,
    };
  }

  /** The session cookie deleted. */
  endCookie(): CookieToSet {
    return { name: 'session', value: '', maxAgeSeconds: 0 };
  }

  /** When a transaction began (ms): a login after it was made for it (prompt=login, max_age). */
  startedAt(tx: Transaction): number {
    return tx.exp - this.config.authorizationRequestTtlSeconds * 1000;
  }
}
