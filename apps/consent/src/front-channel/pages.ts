import { Inject, Injectable } from '@nestjs/common';
import type { ConsentConfig } from '#lib/config';
import type { BrowserState, ClientView, FrontChannelResult } from '#lib/contracts';
import {
  type AuthorizationError,
  describeScope,
  pageLanguage,
  type Transaction,
} from '#lib/domain-authorization';
import { CONSENT_CONFIG } from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';
import { BrowserSessions, type Session } from './browser-sessions.js';

const NONCE = /^[A-Za-z0-9_-]{43}$/;

export type AuthorizeTransaction = Extract<Transaction, { kind: 'authorize' }>;

/** The pages the gateway renders: what each shows, and the CSRF token its form carries. */
@Injectable()
export class FrontChannelPages {
  constructor(
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    private readonly browser: BrowserSessions,
  ) {}

  /**
   * The login form. Before a session exists its CSRF token is bound to a random nonce cookie
   * (RFC 6749 §10.12: login CSRF), set here when the browser has none.
   */
  login(
    tx: Transaction,
    sealed: string,
    client: ClientView | null,
    browser: BrowserState,
    status: number,
    username?: string,
  ): Extract<FrontChannelResult, { kind: 'login' }> {
    const present = nonceOf(browser);
    const nonce = present ?? randomBytes(32).toString('base64url');
    // OpenID Connect Core §3.1.2.1: login_hint prefills the username (the gateway escapes it).
    const authentication = tx.kind === 'authorize' ? tx.request.authentication : undefined;
    const shown = username ?? authentication?.loginHint;
    const lang = pageLanguage(authentication);
    return {
      kind: 'login',
      status,
      tx: sealed,
      csrf: this.browser.csrf.token(tx.id, nonce),
      ...(client ? { clientName: client.clientName } : {}),
      ...(shown ? { username: shown } : {}),
      ...(lang ? { lang } : {}),
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

  /** The consent form, its CSRF token bound to the transaction and the session. */
  consent(
    tx: AuthorizeTransaction,
    sealed: string,
    client: ClientView,
    session: Session,
  ): FrontChannelResult {
    const lang = pageLanguage(tx.request.authentication);
    return {
      kind: 'consent',
      tx: sealed,
      csrf: this.browser.csrf.token(tx.id, session.cookie),
      username: session.user.username,
      clientId: client.clientId,
      clientName: client.clientName,
      ...(client.clientUri ? { clientUri: client.clientUri } : {}),
      scopes: tx.request.scope.map((scope) => ({ scope, description: describeScope(scope) })),
      redirectOrigin: originOf(tx.request.deliveredTo),
      ...(lang ? { lang } : {}),
    };
  }

  /** A state-changing POST from another site is refused (RFC 6749 §10.12, defence in depth). */
  crossSite(browser: BrowserState): FrontChannelResult | null {
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

export const errorPage = (status: number, error: string, description: string): FrontChannelResult => ({
  kind: 'error-page',
  status,
  error,
  description,
});

export const formNotVerified = (): FrontChannelResult =>
  errorPage(403, 'access_denied', 'the form could not be verified; start again');

export function expired(): FrontChannelResult {
  return errorPage(
    400,
    'invalid_request',
    'this authorization request has expired or is not valid; start again',
  );
}

export function accessDenied(description: string): AuthorizationError {
  return { error: 'access_denied', description };
}

export function nonceOf(browser: BrowserState): string | undefined {
  return typeof browser.nonce === 'string' && NONCE.test(browser.nonce) ? browser.nonce : undefined;
}

export function targetOf(tx: Exclude<Transaction, { kind: 'account' }>) {
  return tx.kind === 'authorize' ? tx.request : tx.target;
}

export function clientIdOf(tx: Exclude<Transaction, { kind: 'account' }>): string {
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
