import { Inject, Injectable } from '@nestjs/common';
import type { ConsentConfig, CookieKeysConfig } from '#lib/config';
import type { CookieToSet } from '#lib/contracts';
import { CsrfTokens, type LoginSession, Sealer, type Transaction } from '#lib/domain-authorization';
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
import { type ActiveUser, UserRepository } from '../users/user.repository.js';

/** The browser's login session, opened and checked against the user's current state. */
export interface Session {
  cookie: string;
  session: LoginSession;
  user: ActiveUser;
}

/** A transaction of a kind, before its id and expiry are given. */
export type TransactionBody = WithoutIdAndExpiry<Transaction>;
type WithoutIdAndExpiry<T> = T extends unknown ? Omit<T, 'id' | 'exp'> : never;

/**
 * What the front channel keeps in the browser, sealed (AES-256-GCM under COOKIE_SEALING_KEYS, one
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

  sealTransaction(tx: Transaction): string {
    return this.transactions.seal(tx, randomBytes(12));
  }

  /** The transaction a form carries, or null when it was altered or has expired. */
  openTransaction(sealed: unknown): Transaction | null {
    return this.transactions.open<Transaction>(sealed, this.clock().getTime());
  }

  /** The session of this cookie, if it is still valid for the user's current state. */
  async current(cookie: string | undefined): Promise<Session | null> {
    const session = this.sessions.open<LoginSession>(cookie, this.clock().getTime());
    if (session === null || typeof session.sub !== 'string') return null;
    const { state } = await this.users.load(session.sub);
    // Disabling the user or a new password ends the session (RFC 9700 §4.14.2 by analogy).
    if (!sessionStillValid(state, session.authTime)) return null;
    return { cookie: cookie!, session, user: state as ActiveUser };
  }

  /**
   * The session cookie of a login at `authTime` (ms). A new value at every login: no session
   * fixation (OWASP ASVS V3.2.1).
   */
  startSession(sub: string, authTime: number): CookieToSet {
    const session: LoginSession = {
      sub,
      authTime,
      exp: authTime + this.config.loginSessionTtlSeconds * 1000,
    };
    return {
      name: 'session',
      value: this.sessions.seal(session, randomBytes(12)),
      maxAgeSeconds: this.config.loginSessionTtlSeconds,
    };
  }
}
