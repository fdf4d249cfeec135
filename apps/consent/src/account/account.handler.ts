import { Injectable } from '@nestjs/common';
import type {
  AccountEndSessionRequest,
  AccountRequest,
  AccountRevokeRequest,
  FrontChannelResult,
} from '#lib/contracts';
import { AuthorizationResponses } from '../front-channel/authorization-responses.js';
import { BrowserSessions } from '../front-channel/browser-sessions.js';
import { FrontChannelPages, formNotVerified } from '../front-channel/pages.js';
import { RevokeConsentHandler } from '../revoke-consent/revoke-consent.handler.js';
import { UserGrants } from '../users/user-grants.js';

/**
 * The user's own account page: the consents given, each revocable by the user, and the user's
 * browser sessions, each of which (or all) the user can sign out.
 */
@Injectable()
export class AccountHandler {
  constructor(
    private readonly browser: BrowserSessions,
    private readonly pages: FrontChannelPages,
    private readonly responses: AuthorizationResponses,
    private readonly grants: UserGrants,
    private readonly revokeConsent: RevokeConsentHandler,
  ) {}

  /** The account page, or the login page first when there is no session. */
  async show(request: AccountRequest): Promise<FrontChannelResult> {
    const session = await this.browser.current(request.browser.session);
    if (session === null) {
      const tx = this.browser.newTransaction({ kind: 'account' });
      return this.pages.login(tx, await this.browser.sealTransaction(tx), null, request.browser, 200);
    }
    const consents = await this.grants.consentsOf(session.user.sub);
    const named = await Promise.all(
      consents.map(async (c) => ({
        ...c,
        clientName: (await this.responses.findClient(c.clientId).catch(() => null))?.clientName ?? c.clientId,
      })),
    );
    const sessions = await this.browser.store.sessionsOf(session.user.sub);
    return {
      kind: 'account',
      username: session.user.username,
      csrf: this.browser.csrf.token('account', session.cookie),
      consents: named,
      sessions: sessions.map((s) => ({ ...s, current: s.sid === session.session.sid })),
    };
  }

  /** A consent revoked from the account page (RFC 6749 §10.12: a same-site form with its CSRF token). */
  async revoke(request: AccountRevokeRequest): Promise<FrontChannelResult> {
    const crossSite = this.pages.crossSite(request.browser);
    if (crossSite) return crossSite;
    const session = await this.browser.current(request.browser.session);
    if (session === null || !this.browser.csrf.check(request.form.csrf, 'account', session.cookie))
      return formNotVerified();
    const clientId = request.form.client_id ?? '';
    await this.revokeConsent.handle(session.user.sub, clientId, {
      actor: `user:${session.user.sub}`,
      correlationId: request.context.correlationId,
      callerRequestId: request.context.callerRequestId,
    });
    return { kind: 'redirect', location: '/account' };
  }

  /**
   * A session (`sid`) or every session (`all`) of the user signed out from the account page (RFC
   * 6749 §10.12: a same-site form with its CSRF token). A sid that is not the user's is refused as
   * the form would be; signing this browser's session out deletes its cookie.
   */
  async endSession(request: AccountEndSessionRequest): Promise<FrontChannelResult> {
    const crossSite = this.pages.crossSite(request.browser);
    if (crossSite) return crossSite;
    const session = await this.browser.current(request.browser.session);
    if (session === null || !this.browser.csrf.check(request.form.csrf, 'account', session.cookie))
      return formNotVerified();
    const sub = session.user.sub;
    const caller = { actor: `user:${sub}`, context: request.context };
    const all = request.form.all === '1';
    const sid = request.form.sid ?? '';
    if (all) await this.browser.store.endAllOfUser(sub, 'user', caller);
    else {
      const ended = await this.browser.store.endOfUser(sub, sid, 'user', caller).catch(() => null);
      if (ended === null) return formNotVerified();
    }
    const signedOutHere = all || sid === session.session.sid;
    return {
      kind: 'redirect',
      location: '/account',
      ...(signedOutHere ? { cookies: [this.browser.endCookie()] } : {}),
    };
  }
}
