import { Injectable } from '@nestjs/common';
import type { FrontChannelResult, LogoutRequest } from '#lib/contracts';
import { BrowserSessions } from '../front-channel/browser-sessions.js';
import { FrontChannelPages, formNotVerified } from '../front-channel/pages.js';

const LOCALE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2, §3): the user is asked to
 * confirm (the `id_token_hint` is not verified, so the request is not trusted to name the user), and
 * the confirmed session ends (SessionEnded, reason logout). A post-logout redirect goes only to a URI
 * registered for the client, exactly matched (§3); until clients can register one, none is made.
 */
@Injectable()
export class LogoutHandler {
  constructor(
    private readonly browser: BrowserSessions,
    private readonly pages: FrontChannelPages,
  ) {}

  /** GET or POST of the end-session endpoint: the confirmation page, or "signed out" when no session. */
  async show(request: LogoutRequest): Promise<FrontChannelResult> {
    const lang = languageOf(request.parameters.ui_locales);
    const session = await this.browser.current(request.browser.session);
    if (session === null) return { kind: 'logged-out', ...lang };
    return {
      kind: 'logout-confirm',
      csrf: this.browser.csrf.token('logout', session.cookie),
      username: session.user.username,
      ...lang,
    };
  }

  /** The confirmation form (same-site, its CSRF token bound to the session cookie; RFC 6749 §10.12). */
  async confirm(request: LogoutRequest): Promise<FrontChannelResult> {
    const crossSite = this.pages.crossSite(request.browser);
    if (crossSite) return crossSite;
    const session = await this.browser.current(request.browser.session);
    if (session === null) return { kind: 'logged-out', cookies: [this.browser.endCookie()] };
    if (!this.browser.csrf.check(request.parameters.csrf, 'logout', session.cookie)) return formNotVerified();
    const sub = session.user.sub;
    await this.browser.store.endOfUser(sub, session.session.sid, 'logout', {
      actor: `user:${sub}`,
      context: request.context,
    });
    return { kind: 'logged-out', cookies: [this.browser.endCookie()] };
  }
}

/** RP-Initiated Logout 1.0 §2 ui_locales: English is the pages' one language. */
function languageOf(uiLocales: string | undefined): { lang?: string } {
  const tag = (uiLocales ?? '')
    .split(' ')
    .find((l) => LOCALE.test(l) && l.split('-')[0]!.toLowerCase() === 'en');
  return tag ? { lang: tag } : {};
}
