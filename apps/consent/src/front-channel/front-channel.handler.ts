import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Config } from '#lib/config';
import {
  type AccountRevokeRequest,
  type AuthorizeRequest,
  type BrowserState,
  type ClientView,
  type ConsentDecisionRequest,
  type CookieToSet,
  eventMetadata,
  type FrontChannelResult,
  type IssueAuthorizationCodeRequest,
  type IssueAuthorizationCodeResponse,
  type LoginRequest,
  type RequestContext,
  type ResumeRequest,
  Subjects,
} from '#lib/contracts';
import {
  type AuthorizationError,
  authorizationResponseUrl,
  ChallengeReuseTracker,
  checkAuthorizationRequest,
  checkClientId,
  checkResponseTarget,
  CsrfTokens,
  describeScope,
  grantIdForTransaction,
  type LoginSession,
  Sealer,
  type Transaction,
  type ValidAuthorizationRequest,
} from '#lib/domain-authorization';
import {
  consentCovers,
  consentStreamId,
  decideConsent,
  evolveConsent,
  initialConsentState,
} from '#lib/domain-consent';
import { hashGrantToken, mintGrantToken } from '#lib/domain-grant';
import {
  BUSY,
  type CheckPassword,
  decideUser,
  sessionStillValid,
  type UserState,
  userStreamId,
} from '#lib/domain-user';
import {
  aggregateStream,
  type EventMetadata,
  type EventStore,
  isExpectedVersionConflict,
} from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';
import { sourceAddressKey } from '#lib/oauth-protocol';
import { CONFIG, EVENT_STORE, metrics, type RpcClient } from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';
import { SERVICE_RPC } from '../consent.tokens.js';
import { UsersService } from '../users/users.service.js';
import { LoginThrottleService } from './login-throttle.service.js';

type ActiveUser = Extract<UserState, { status: 'active' }>;
interface Session {
  cookie: string;
  session: LoginSession;
  user: ActiveUser;
}

const NONCE = /^[A-Za-z0-9_-]{43}$/;
/** Retry-After of a login refused because this process has too many password checks in progress. */
const BUSY_RETRY_AFTER_SECONDS = 2;
const errorPage = (status: number, error: string, description: string): FrontChannelResult => ({
  kind: 'error-page',
  status,
  error,
  description,
});

/**
 * The front channel of the authorization code grant (RFC 6749 §4.1.1, §4.1.2): the authorization
 * request, login, consent, and the authorization response. It decides; the gateway renders.
 */
@Injectable()
export class FrontChannelHandler {
  private readonly logger = new Logger('FrontChannel');
  private readonly transactions: Sealer;
  private readonly sessions: Sealer;
  private readonly csrf: CsrfTokens;
  private readonly challenges = new ChallengeReuseTracker();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    private readonly users: UsersService,
    private readonly throttle: LoginThrottleService,
  ) {
    this.transactions = new Sealer(config.cookieSealingKeys, 'authorization-transaction');
    this.sessions = new Sealer(config.cookieSealingKeys, 'login-session');
    this.csrf = new CsrfTokens(config.csrfKeys);
  }

  // ------------------------------------------------------------ GET/POST /authorize

  async authorize(request: AuthorizeRequest): Promise<FrontChannelResult> {
    const params = new Map(request.parameters);
    const client = checkClientId(params);
    if (client.status === 'rejected') return errorPage(400, 'invalid_request', client.description);
    const view = await this.findClient(client.clientId, request.context.correlationId);
    const target = checkResponseTarget(params, view);
    if (target.status === 'rejected') return errorPage(400, 'invalid_request', target.description);
    const checked = checkAuthorizationRequest(params, view!, target.target);
    if (!('error' in checked) && checked.request.codeChallenge !== null) {
      // RFC 9700 §2.1.1: a constant code_challenge is logged, not refused.
      const seen = this.challenges.observe(checked.request.codeChallenge, client.clientId, Date.now());
      if (seen.reused) {
        this.logger.warn({
          msg:
            `code_challenge reused: ${seen.count} authorization requests within the hour ` +
            `(client_id ${seen.clientIds.join(', ')}); RFC 9700 §2.1.1`,
          correlationId: request.context.correlationId,
        });
      }
    }
    const id = randomBytes(16).toString('base64url');
    const exp = Date.now() + this.config.authorizationRequestTtlSeconds * 1000;
    const tx: Transaction =
      'error' in checked
        ? { kind: 'authorize-error', id, exp, target: target.target, error: checked.error }
        : { kind: 'authorize', id, exp, request: checked.request };
    return this.orUnavailable(target.target, request.context.correlationId, () =>
      this.proceed(tx, this.seal(tx), view!, request.browser, request.context),
    );
  }

  /**
   * RFC 6749 §4.1.2.1: once the redirect URI is known, a failure of ours goes
   * back to the client as temporarily_unavailable, never as a bare 500.
   */
  private async orUnavailable(
    target: Parameters<typeof authorizationResponseUrl>[0],
    correlationId: string,
    work: () => Promise<FrontChannelResult>,
  ): Promise<FrontChannelResult> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof OAuthError && err.status < 500) throw err;
      this.logger.error({
        msg: `authorization request failed: ${err instanceof Error ? err.message : String(err)}`,
        correlationId,
      });
      return {
        kind: 'redirect',
        location: this.responseUrl(target, {
          error: 'temporarily_unavailable',
          description: 'the authorization server cannot complete the request now; try again later',
        }),
      };
    }
  }

  async resume(request: ResumeRequest): Promise<FrontChannelResult> {
    const tx = this.transactions.open<Transaction>(request.tx, Date.now());
    if (tx === null) return expired();
    const client =
      tx.kind === 'account' ? null : await this.findClient(clientIdOf(tx), request.context.correlationId);
    if (tx.kind !== 'account' && (client === null || client.status !== 'active'))
      return errorPage(400, 'invalid_request', 'unknown client');
    if (tx.kind === 'account') return this.proceed(tx, request.tx, client, request.browser, request.context);
    return this.orUnavailable(targetOf(tx), request.context.correlationId, () =>
      this.proceed(tx, request.tx, client, request.browser, request.context),
    );
  }

  /** After the checks: the login page, the consent page, or the authorization response. */
  private async proceed(
    tx: Transaction,
    sealed: string,
    client: ClientView | null,
    browser: BrowserState,
    context: RequestContext,
  ): Promise<FrontChannelResult> {
    const session = await this.currentSession(browser.session);
    // RFC 6749 §3.1, RFC 9700 §4.11.2 (open redirector): the user logs in before any redirect.
    if (session === null) return this.loginPage(tx, sealed, client, browser, 200);
    switch (tx.kind) {
      case 'account':
        return { kind: 'redirect', location: '/account' };
      case 'authorize-error':
        return { kind: 'redirect', location: this.responseUrl(tx.target, tx.error) };
      case 'authorize': {
        const { state } = await aggregateStream(
          this.store,
          consentStreamId(session.user.sub, tx.request.clientId),
          evolveConsent,
          initialConsentState,
        );
        // A remembered consent for the same or fewer scopes skips the page.
        if (consentCovers(state, tx.request.scope)) return this.issueCode(tx, session, context);
        return this.consentPage(tx, sealed, client!, session);
      }
      default: {
        const unknown: never = tx;
        throw new Error(`unknown transaction ${(unknown as { kind: string }).kind}`);
      }
    }
  }

  // ------------------------------------------------------------ login

  async login(request: LoginRequest): Promise<FrontChannelResult> {
    const crossSite = this.crossSite(request.browser);
    if (crossSite) return crossSite;
    const sealed = request.form.tx ?? '';
    const tx = this.transactions.open<Transaction>(sealed, Date.now());
    if (tx === null) return expired();
    // RFC 6749 §10.12: login CSRF; the token is bound to the browser's nonce cookie.
    if (!this.csrf.check(request.form.csrf, tx.id, nonceOf(request.browser)))
      return errorPage(403, 'access_denied', 'the form could not be verified; start again');
    const client =
      tx.kind === 'account' ? null : await this.findClient(clientIdOf(tx), request.context.correlationId);
    if (request.form.cancel !== undefined) {
      // RFC 6749 §4.1.2.1: cancelling at login is access_denied to the client.
      if (tx.kind === 'account') return { kind: 'redirect', location: '/' };
      return {
        kind: 'redirect',
        location: this.responseUrl(targetOf(tx), accessDenied('the user cancelled the login')),
      };
    }
    const username = (request.form.username ?? '').trim();
    const password = request.form.password ?? '';
    const now = Date.now();
    const checked = await this.throttle.passwordChecks.admit((checkPassword) =>
      this.checkCredentials(username, password, request.context, Math.floor(now / 1000), checkPassword),
    );
    if (checked === BUSY) {
      metrics.loginAttempts.inc({ outcome: 'busy' });
      return {
        ...this.loginPage(tx, sealed, client, request.browser, 503, username),
        message: `The server is busy. Try again in ${BUSY_RETRY_AFTER_SECONDS} seconds.`,
        retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
      } as FrontChannelResult;
    }
    metrics.loginAttempts.inc({ outcome: checked.outcome });
    if (checked.outcome === 'throttled') {
      return {
        ...this.loginPage(tx, sealed, client, request.browser, 429, username),
        message: `Too many failed attempts. Try again in ${checked.retryAfterSeconds} seconds.`,
        retryAfterSeconds: checked.retryAfterSeconds,
      } as FrontChannelResult;
    }
    if (checked.outcome === 'failed') {
      return {
        ...this.loginPage(tx, sealed, client, request.browser, 200, username),
        message: 'The username or password is not correct.',
      } as FrontChannelResult;
    }
    const { user, version } = checked;
    await this.recordLogin(user, version, 'success', request.context, client?.clientId);
    const session: LoginSession = {
      sub: user.sub,
      authTime: now,
      exp: now + this.config.loginSessionTtlSeconds * 1000,
    };
    // A new session value at login: no session fixation (OWASP ASVS V3.2.1).
    const cookie: CookieToSet = {
      name: 'session',
      value: this.sessions.seal(session, randomBytes(12)),
      maxAgeSeconds: this.config.loginSessionTtlSeconds,
    };
    const location = tx.kind === 'account' ? '/account' : `/authorize/resume?tx=${sealed}`;
    return { kind: 'redirect', location, cookies: [cookie] };
  }

  /**
   * RFC 6749 §10.10 (credentials guessing): the attempt is counted, per account and per source
   * address in the table every replica shares, before the password is checked, or refused with the
   * wait; a right password takes its count back. An unknown user costs one argon2 check too, so that
   * the time taken does not tell which usernames exist.
   */
  private async checkCredentials(
    username: string,
    password: string,
    context: RequestContext,
    nowSeconds: number,
    checkPassword: CheckPassword,
  ): Promise<
    | { outcome: 'throttled'; retryAfterSeconds: number }
    | { outcome: 'failed' }
    | { outcome: 'succeeded'; user: ActiveUser; version: number }
  > {
    const reservation = await this.throttle.attempts.reserve(
      username,
      sourceAddressKey(context.ip),
      nowSeconds,
    );
    if (!reservation.allowed)
      return { outcome: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
    const { attempt } = reservation;
    let loaded: { state: UserState; version: number } | null;
    let passwordOk: boolean;
    try {
      const sub = username === '' ? null : await this.users.subOf(username);
      loaded = sub === null ? null : await this.users.load(sub);
      const hash = loaded?.state.status === 'none' ? null : (loaded?.state.passwordHash ?? null);
      passwordOk = await checkPassword(hash, password);
    } catch (err) {
      // A failure of ours is not the user's failure: the attempt is not counted.
      await this.throttle.attempts.withdraw(attempt).catch(() => undefined);
      throw err;
    }
    const user = loaded === null || loaded.state.status === 'none' ? null : loaded.state;
    if (!passwordOk || user === null || user.status !== 'active') {
      if (user !== null) {
        // Recorded after the answer is decided, so that a known user's failure costs what an unknown one's does.
        void this.recordLogin(user, loaded!.version, passwordOk ? 'disabled' : 'wrong_password', context);
      }
      return { outcome: 'failed' };
    }
    await this.throttle.attempts.succeeded(attempt).catch((err: unknown) => {
      this.logger.warn({
        msg: `could not clear the login throttle after a login: ${String(err)}`,
        correlationId: context.correlationId,
      });
    });
    return { outcome: 'succeeded', user, version: loaded!.version };
  }

  private async recordLogin(
    user: Exclude<UserState, { status: 'none' }>,
    version: number,
    outcome: 'success' | 'wrong_password' | 'disabled',
    context: RequestContext,
    clientId?: string,
  ): Promise<void> {
    const events = decideUser(
      { type: 'RecordLogin', outcome, now: new Date(), ...(clientId !== undefined ? { clientId } : {}) },
      user,
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

  // ------------------------------------------------------------ consent

  async decide(request: ConsentDecisionRequest): Promise<FrontChannelResult> {
    const crossSite = this.crossSite(request.browser);
    if (crossSite) return crossSite;
    const sealed = request.form.tx ?? '';
    const tx = this.transactions.open<Transaction>(sealed, Date.now());
    if (tx === null) return expired();
    const session = await this.currentSession(request.browser.session);
    // RFC 6749 §10.12: the CSRF token is bound to this transaction and this session.
    if (session === null || !this.csrf.check(request.form.csrf, tx.id, session.cookie))
      return errorPage(403, 'access_denied', 'the form could not be verified; start again');
    if (tx.kind !== 'authorize') return errorPage(400, 'invalid_request', 'nothing to consent to');
    const { request: req } = tx;
    const streamId = consentStreamId(session.user.sub, req.clientId);
    const metadata = eventMetadata(request.context, `user:${session.user.sub}`);
    if (request.form.decision !== 'allow') {
      const { version, state } = await aggregateStream(
        this.store,
        streamId,
        evolveConsent,
        initialConsentState,
      );
      const events = decideConsent(
        {
          type: 'DenyConsent',
          sub: session.user.sub,
          clientId: req.clientId,
          scope: req.scope,
          now: new Date(),
        },
        state,
      );
      await this.store
        .appendToStream(
          streamId,
          version,
          events.map((e) => ({ ...e, metadata })),
        )
        .catch((err: unknown) => {
          if (!isExpectedVersionConflict(err)) throw err;
        });
      // RFC 6749 §4.1.2.1: access_denied.
      return {
        kind: 'redirect',
        location: this.responseUrl(req, accessDenied('the user denied the request')),
      };
    }
    return this.orUnavailable(req, request.context.correlationId, () =>
      this.allow(tx, session, streamId, metadata, request.context),
    );
  }

  /** The remembered consent (when it changed), then the code (RFC 6749 §4.1.2). */
  private async allow(
    tx: Extract<Transaction, { kind: 'authorize' }>,
    session: Session,
    streamId: string,
    metadata: EventMetadata,
    context: RequestContext,
  ): Promise<FrontChannelResult> {
    const req = tx.request;
    for (let attempt = 0; ; attempt++) {
      const { version, state } = await aggregateStream(
        this.store,
        streamId,
        evolveConsent,
        initialConsentState,
      );
      const events = decideConsent(
        {
          type: 'GrantConsent',
          sub: session.user.sub,
          clientId: req.clientId,
          scope: req.scope,
          now: new Date(),
        },
        state,
      );
      if (events.length === 0) break;
      try {
        await this.store.appendToStream(
          streamId,
          version,
          events.map((e) => ({ ...e, metadata })),
        );
        break;
      } catch (err) {
        if (!isExpectedVersionConflict(err) || attempt >= 3) throw err;
      }
    }
    return this.issueCode(tx, session, context);
  }

  /**
   * RFC 6749 §4.1.2: the code. The token service owns every grant stream, so it records the grant;
   * the grant id comes from the transaction, so a second code for it is refused there (RFC 6749
   * §10.5: a code is issued once).
   *
   * The code is minted and hashed here and only its keyed hash crosses the bus: the clear code
   * leaves this process in the redirect to the client alone, never in a message another service or
   * a NATS operator could read (ARCHITECTURE: no bearer secret is written anywhere but its hash).
   */
  private async issueCode(
    tx: Extract<Transaction, { kind: 'authorize' }>,
    session: Session,
    context: RequestContext,
  ): Promise<FrontChannelResult> {
    const req = tx.request;
    const grantId = grantIdForTransaction(tx.id);
    const code = mintGrantToken(grantId);
    const request: IssueAuthorizationCodeRequest = {
      context,
      actor: `user:${session.user.sub}`,
      grantId,
      clientId: req.clientId,
      sub: session.user.sub,
      username: session.user.username,
      scope: req.scope,
      ...(req.resource.length > 0 ? { resource: req.resource } : {}),
      redirectUri: req.redirectUri,
      deliveredTo: req.deliveredTo,
      codeChallenge: req.codeChallenge,
      codeHash: hashGrantToken(code, this.config.secretHashKeys),
      authTime: Math.floor(session.session.authTime / 1000),
    };
    const issued = await this.rpc.request<IssueAuthorizationCodeResponse>(
      Subjects.token.issueAuthorizationCode,
      request,
      context.correlationId,
    );
    if (issued.outcome === 'already-issued')
      return errorPage(400, 'invalid_request', 'this authorization request has already been answered');
    return { kind: 'redirect', location: this.responseUrl(req, { code }) };
  }

  // ------------------------------------------------------------ account

  async account(
    request: { browser: BrowserState; context: RequestContext },
    message?: string,
  ): Promise<FrontChannelResult> {
    const session = await this.currentSession(request.browser.session);
    if (session === null) {
      const tx: Transaction = {
        kind: 'account',
        id: randomBytes(16).toString('base64url'),
        exp: Date.now() + this.config.authorizationRequestTtlSeconds * 1000,
      };
      return this.loginPage(tx, this.seal(tx), null, request.browser, 200);
    }
    const consents = await this.users.consentsOf(session.user.sub);
    const named = await Promise.all(
      consents.map(async (c) => ({
        ...c,
        clientName:
          (await this.findClient(c.clientId, request.context.correlationId).catch(() => null))?.clientName ??
          c.clientId,
      })),
    );
    return {
      kind: 'account',
      username: session.user.username,
      csrf: this.csrf.token('account', session.cookie),
      consents: named,
      ...(message ? { message } : {}),
    };
  }

  async accountRevoke(request: AccountRevokeRequest): Promise<FrontChannelResult> {
    const crossSite = this.crossSite(request.browser);
    if (crossSite) return crossSite;
    const session = await this.currentSession(request.browser.session);
    if (session === null || !this.csrf.check(request.form.csrf, 'account', session.cookie))
      return errorPage(403, 'access_denied', 'the form could not be verified; start again');
    const clientId = request.form.client_id ?? '';
    await this.users.revokeConsent(session.user.sub, clientId, {
      actor: `user:${session.user.sub}`,
      correlationId: request.context.correlationId,
      callerRequestId: request.context.callerRequestId,
    });
    return { kind: 'redirect', location: '/account' };
  }

  // ------------------------------------------------------------ helpers

  private seal(tx: Transaction): string {
    return this.transactions.seal(tx, randomBytes(12));
  }

  private responseUrl(
    target: Parameters<typeof authorizationResponseUrl>[0],
    outcome: { code: string } | AuthorizationError,
  ) {
    return authorizationResponseUrl(target, this.config.issuer, outcome);
  }

  private async findClient(clientId: string, correlationId: string): Promise<ClientView | null> {
    try {
      return await this.rpc.request<ClientView>(Subjects.client.get, { clientId }, correlationId);
    } catch (err) {
      if (err instanceof OAuthError && (err.error === 'not_found' || err.error === 'invalid_client'))
        return null;
      throw err;
    }
  }

  private async currentSession(cookie: string | undefined): Promise<Session | null> {
    const session = this.sessions.open<LoginSession>(cookie, Date.now());
    if (session === null || typeof session.sub !== 'string') return null;
    const { state } = await this.users.load(session.sub);
    // Disabling the user or a new password ends the session (RFC 9700 §4.14.2 by analogy).
    if (!sessionStillValid(state, session.authTime)) return null;
    return { cookie: cookie!, session, user: state as ActiveUser };
  }

  private loginPage(
    tx: Transaction,
    sealed: string,
    client: ClientView | null,
    browser: BrowserState,
    status: number,
    username?: string,
  ): FrontChannelResult {
    const present = nonceOf(browser);
    const nonce = present ?? randomBytes(32).toString('base64url');
    return {
      kind: 'login',
      status,
      tx: sealed,
      csrf: this.csrf.token(tx.id, nonce),
      ...(client ? { clientName: client.clientName } : {}),
      ...(username ? { username } : {}),
      ...(tx.kind !== 'account' ? { redirectOrigin: originOf(targetOf(tx).deliveredTo) } : {}),
      ...(present
        ? {}
        : {
            cookies: [
              { name: 'nonce', value: nonce, maxAgeSeconds: this.config.authorizationRequestTtlSeconds },
            ],
          }),
    };
  }

  private consentPage(
    tx: Extract<Transaction, { kind: 'authorize' }>,
    sealed: string,
    client: ClientView,
    session: Session,
  ): FrontChannelResult {
    return {
      kind: 'consent',
      tx: sealed,
      csrf: this.csrf.token(tx.id, session.cookie),
      username: session.user.username,
      clientId: client.clientId,
      clientName: client.clientName,
      ...(client.clientUri ? { clientUri: client.clientUri } : {}),
      scopes: tx.request.scope.map((scope) => ({ scope, description: describeScope(scope) })),
      redirectOrigin: originOf(tx.request.deliveredTo),
    };
  }

  /** A state-changing POST from another site is refused (RFC 6749 §10.12, defence in depth). */
  private crossSite(browser: BrowserState): FrontChannelResult | null {
    const own = new URL(this.config.issuer).origin;
    // Under Referrer-Policy no-referrer a browser sends `Origin: null` on its own forms.
    const site = browser.secFetchSite;
    const origin = browser.origin;
    if (
      site === 'cross-site' ||
      site === 'same-site' ||
      (origin !== undefined && origin !== 'null' && origin !== own)
    )
      return errorPage(403, 'access_denied', 'cross-site form submission refused');
    return null;
  }
}

function expired(): FrontChannelResult {
  return errorPage(
    400,
    'invalid_request',
    'this authorization request has expired or is not valid; start again',
  );
}

function accessDenied(description: string): AuthorizationError {
  return { error: 'access_denied', description };
}

function nonceOf(browser: BrowserState): string | undefined {
  return typeof browser.nonce === 'string' && NONCE.test(browser.nonce) ? browser.nonce : undefined;
}

function targetOf(tx: Exclude<Transaction, { kind: 'account' }>) {
  return tx.kind === 'authorize' ? tx.request : tx.target;
}

function clientIdOf(tx: Exclude<Transaction, { kind: 'account' }>): string {
  return targetOf(tx).clientId;
}

/** What CSP form-action must allow for the form's redirect to reach the client. */
export function originOf(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  if (m && (m[1] === 'http' || m[1] === 'https')) {
    try {
      return new URL(uri).origin;
    } catch {
      return `${m[1]}:`;
    }
  }
  return m ? `${m[1]}:` : "'none'";
}

export type { ValidAuthorizationRequest };
