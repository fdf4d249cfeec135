import { Inject, Injectable } from '@nestjs/common';
import type { FrontChannelResult, LoginRequest } from '#lib/contracts';
import { BUSY } from '#lib/domain-user';
import { CLOCK, type Clock, metrics, useMetrics } from '#lib/service-runtime';
import { AuthorizationResponses } from '../front-channel/authorization-responses.js';
import { BrowserSessions } from '../front-channel/browser-sessions.js';
import {
  accessDenied,
  clientIdOf,
  expired,
  FrontChannelPages,
  formNotVerified,
  nonceOf,
  targetOf,
} from '../front-channel/pages.js';
import { type CredentialCheck, LoginCredentials } from './credentials.js';
import { LoginThrottleService } from './login-throttle.service.js';

/** Retry-After of a login refused because this process has too many password checks in progress. */
const BUSY_RETRY_AFTER_SECONDS = 2;

/** The login form posted: a new login session, or the form again with why. */
@Injectable()
export class LoginHandler {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly browser: BrowserSessions,
    private readonly pages: FrontChannelPages,
    private readonly responses: AuthorizationResponses,
    private readonly credentials: LoginCredentials,
    private readonly throttle: LoginThrottleService,
  ) {
    useMetrics('loginAttempts');
  }

  async handle(request: LoginRequest): Promise<FrontChannelResult> {
    const crossSite = this.pages.crossSite(request.browser);
    if (crossSite) return crossSite;
    const sealed = request.form.tx ?? '';
    const tx = await this.browser.openTransaction(sealed);
    if (tx === null) return expired();
    // RFC 6749 §10.12: login CSRF; the token is bound to the browser's nonce cookie.
    if (!this.browser.csrf.check(request.form.csrf, tx.id, nonceOf(request.browser)))
      return formNotVerified();
    const client = tx.kind === 'account' ? null : await this.responses.findClient(clientIdOf(tx));
    if (request.form.cancel !== undefined) {
      // RFC 6749 §4.1.2.1: cancelling at login is access_denied to the client.
      if (tx.kind === 'account') return { kind: 'redirect', location: '/' };
      return {
        kind: 'redirect',
        location: this.responses.url(targetOf(tx), accessDenied('the user cancelled the login')),
      };
    }
    const username = (request.form.username ?? '').trim();
    const now = this.clock();
    const attempt = { username, password: request.form.password ?? '', context: request.context, now };
    const checked = await this.throttle.passwordChecks.admit((checkPassword) =>
      this.credentials.check(attempt, checkPassword),
    );
    if (checked === BUSY || checked.outcome !== 'succeeded') {
      const again = (status: number) =>
        this.pages.login(tx, sealed, client, request.browser, status, username);
      return refusal(checked, again);
    }
    metrics.loginAttempts.inc({ outcome: checked.outcome });
    const { user, version } = checked;
    await this.credentials.record(user, version, 'success', request.context, now, client?.clientId);
    const cookie = await this.browser.startSession(user.sub, now, request.browser, request.context);
    const location = tx.kind === 'account' ? '/account' : `/authorize/resume?tx=${sealed}`;
    return { kind: 'redirect', location, cookies: [cookie] };
  }
}

/** The login form again, with the status and message of a refused attempt. */
function refusal(
  checked: typeof BUSY | Exclude<CredentialCheck, { outcome: 'succeeded' }>,
  again: (status: number) => Extract<FrontChannelResult, { kind: 'login' }>,
): FrontChannelResult {
  if (checked === BUSY) {
    metrics.loginAttempts.inc({ outcome: 'busy' });
    return {
      ...again(503),
      message: `The server is busy. Try again in ${BUSY_RETRY_AFTER_SECONDS} seconds.`,
      retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
    };
  }
  metrics.loginAttempts.inc({ outcome: checked.outcome });
  if (checked.outcome === 'throttled') {
    return {
      ...again(429),
      message: `Too many failed attempts. Try again in ${checked.retryAfterSeconds} seconds.`,
      retryAfterSeconds: checked.retryAfterSeconds,
    };
  }
  return { ...again(200), message: 'The username or password is not correct.' };
}
