import { Inject, Injectable } from '@nestjs/common';
import type { FrontChannelResult, LogoutRequest } from '#lib/contracts';
import { type ClientViews } from '#lib/domain-client';
import { hintNamesSession, type LogoutHint, logoutClientId, postLogoutRedirect } from '#lib/domain-consent';
import { invalidRequest } from '#lib/oauth-errors';
import { IdTokenHintInvalid, type IdTokenHintVerifier } from '#lib/signing-keys';
import { CLIENT_VIEWS, ID_TOKEN_HINTS } from '../consent.tokens.js';
import { BrowserSessions, type Session } from '../front-channel/browser-sessions.js';
import { FrontChannelPages, formNotVerified } from '../front-channel/pages.js';

const LOCALE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/** What a logout request resolves to: its verified hint, and where the browser goes afterwards. */
interface LogoutPlan {
  hint?: LogoutHint;
  clientId?: string;
  pairwise: boolean;
  /** A registered post_logout_redirect_uri with `state` added (§3); absent: the signed-out page. */
  location?: string;
}

/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2, §3). An `id_token_hint` is
 * verified (an ID token of this issuer, signed by an ID-token key; expired hints accepted) and must
 * be for the `client_id` when both are sent; an invalid one is `invalid_request` and ends nothing.
 * A hint that names the current session (its `sid` and user) ends it at once (§2 makes the question
 * mandatory only otherwise); every other request asks the user first, with a same-site form. Once
 * signed out, the browser goes to `post_logout_redirect_uri` only when the client registered it
 * exactly (§3), with `state`; otherwise the "signed out" page is shown.
 */
@Injectable()
export class LogoutHandler {
  constructor(
    private readonly browser: BrowserSessions,
    private readonly pages: FrontChannelPages,
    @Inject(CLIENT_VIEWS) private readonly clients: ClientViews,
    @Inject(ID_TOKEN_HINTS) private readonly hints: IdTokenHintVerifier,
  ) {}

  /** GET or POST of the end-session endpoint. */
  async show(request: LogoutRequest): Promise<FrontChannelResult> {
    const lang = languageOf(request.parameters.ui_locales);
    const plan = await this.plan(request.parameters, true);
    const session = await this.browser.current(request.browser.session);
    if (session === null) return this.signedOut(plan, lang, false);
    if (hintNamesSession(plan.hint, { sid: session.session.sid, sub: session.user.sub }, plan.pairwise)) {
      await this.end(session, request);
      return this.signedOut(plan, lang, true);
    }
    return {
      kind: 'logout-confirm',
      csrf: this.browser.csrf.token('logout', session.cookie),
      username: session.user.username,
      ...(plan.location !== undefined
        ? {
            continueWith: {
              clientId: plan.clientId!,
              postLogoutRedirectUri: request.parameters.post_logout_redirect_uri!,
              ...(request.parameters.state ? { state: request.parameters.state } : {}),
            },
            redirectOrigin: new URL(plan.location).origin,
          }
        : {}),
      ...lang,
    };
  }

  /** The confirmation form (same-site, its CSRF token bound to the session cookie; RFC 6749 §10.12). */
  async confirm(request: LogoutRequest): Promise<FrontChannelResult> {
    const crossSite = this.pages.crossSite(request.browser);
    if (crossSite) return crossSite;
    // The client's registration is read again: the redirect stands only if still registered.
    const plan = await this.plan(request.parameters, false);
    const session = await this.browser.current(request.browser.session);
    if (session === null) return this.signedOut(plan, {}, true);
    if (!this.browser.csrf.check(request.parameters.csrf, 'logout', session.cookie)) return formNotVerified();
    await this.end(session, request);
    return this.signedOut(plan, {}, true);
  }

  private async end(session: Session, request: LogoutRequest): Promise<void> {
    const sub = session.user.sub;
    await this.browser.store.endOfUser(sub, session.session.sid, 'logout', {
      actor: `user:${sub}`,
      context: request.context,
    });
  }

  private signedOut(plan: LogoutPlan, lang: { lang?: string }, endCookie: boolean): FrontChannelResult {
    const cookies = endCookie ? { cookies: [this.browser.endCookie()] } : {};
    if (plan.location !== undefined) return { kind: 'redirect', location: plan.location, ...cookies };
    return { kind: 'logged-out', ...lang, ...cookies };
  }

  private async plan(parameters: Record<string, string>, withHint: boolean): Promise<LogoutPlan> {
    const hint = withHint ? await this.verifiedHint(parameters.id_token_hint) : undefined;
    const clientId = logoutClientId(parameters.client_id, hint);
    if (clientId === undefined) return { ...(hint ? { hint } : {}), pairwise: false };
    const client = await this.clients.view(clientId);
    if (client === null) throw invalidRequest('unknown client_id');
    const location =
      client.status === 'active'
        ? postLogoutRedirect(
            parameters.post_logout_redirect_uri,
            parameters.state,
            client.postLogoutRedirectUris,
          )
        : undefined;
    return {
      ...(hint ? { hint } : {}),
      clientId,
      pairwise: client.subjectType === 'pairwise',
      ...(location !== undefined ? { location } : {}),
    };
  }

  private async verifiedHint(token: string | undefined): Promise<LogoutHint | undefined> {
    if (token === undefined || token === '') return undefined;
    try {
      return await this.hints.verify(token);
    } catch (err) {
      if (err instanceof IdTokenHintInvalid) throw invalidRequest('id_token_hint is not valid');
      throw err;
    }
  }
}

/** RP-Initiated Logout 1.0 §2 ui_locales: English is the pages' one language. */
function languageOf(uiLocales: string | undefined): { lang?: string } {
  const tag = (uiLocales ?? '')
    .split(' ')
    .find((l) => LOCALE.test(l) && l.split('-')[0]!.toLowerCase() === 'en');
  return tag ? { lang: tag } : {};
}
