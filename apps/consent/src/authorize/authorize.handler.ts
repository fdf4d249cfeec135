import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  AuthorizeRequest,
  BrowserState,
  ClientView,
  FrontChannelResult,
  RequestContext,
  ResumeRequest,
} from '#lib/contracts';
import {
  type AuthenticationParameters,
  authenticationStep,
  ChallengeReuseTracker,
  checkAuthorizationRequest,
  checkClientId,
  checkResponseTarget,
  hintNamesUser,
  type Transaction,
} from '#lib/domain-authorization';
import { consentCovers, consentStreamId, evolveConsent, initialConsentState } from '#lib/domain-consent';
import { aggregateStream, type EventStore } from '#lib/event-store';
import { CLOCK, type Clock, EVENT_STORE } from '#lib/service-runtime';
import type { IdTokenHintVerifier } from '#lib/signing-keys';
import { ID_TOKEN_HINTS } from '../consent.tokens.js';
import { AuthorizationResponses } from '../front-channel/authorization-responses.js';
import { BrowserSessions } from '../front-channel/browser-sessions.js';
import { CodeIssuer } from '../front-channel/code-issuer.js';
import { clientIdOf, errorPage, expired, FrontChannelPages, targetOf } from '../front-channel/pages.js';

/**
 * The authorization request (RFC 6749 §4.1.1), and its resumption after the login: the login page,
 * the consent page, or the authorization response.
 */
@Injectable()
export class AuthorizeHandler {
  private readonly logger = new Logger('FrontChannel');
  private readonly challenges = new ChallengeReuseTracker();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly browser: BrowserSessions,
    private readonly pages: FrontChannelPages,
    private readonly responses: AuthorizationResponses,
    private readonly codes: CodeIssuer,
    @Inject(ID_TOKEN_HINTS) private readonly hints: IdTokenHintVerifier,
  ) {}

  async authorize(request: AuthorizeRequest): Promise<FrontChannelResult> {
    const params = new Map(request.parameters);
    const client = checkClientId(params);
    if (client.status === 'rejected') return errorPage(400, 'invalid_request', client.description);
    const view = await this.responses.findClient(client.clientId);
    const target = checkResponseTarget(params, view);
    if (target.status === 'rejected') return errorPage(400, 'invalid_request', target.description);
    const checked = await this.verifyHint(checkAuthorizationRequest(params, view!, target.target));
    if (!('error' in checked) && checked.request.codeChallenge !== null)
      this.observeChallenge(checked.request.codeChallenge, client.clientId, request.context.correlationId);
    const tx = this.browser.newTransaction(
      'error' in checked
        ? { kind: 'authorize-error', target: target.target, error: checked.error }
        : { kind: 'authorize', request: checked.request },
    );
    return this.responses.orUnavailable(target.target, request.context.correlationId, async () =>
      this.proceed(tx, await this.browser.sealTransaction(tx), view!, request.browser, request.context),
    );
  }

  /**
   * OpenID Connect Core §3.1.2.1 id_token_hint: an ID token this issuer signed for this client
   * (expired ones too), else invalid_request; kept as its `sub` and `sid` only.
   */
  private async verifyHint<C extends ReturnType<typeof checkAuthorizationRequest>>(checked: C) {
    if ('error' in checked) return checked;
    const authentication = checked.request.authentication;
    if (authentication?.idTokenHint === undefined) return checked;
    const { idTokenHint, ...rest } = authentication;
    const hint = await this.hints.verify(idTokenHint).catch(() => null);
    if (hint === null || !hint.aud.includes(checked.request.clientId))
      return {
        error: {
          error: 'invalid_request' as const,
          description: 'id_token_hint is not valid for this client',
        },
      };
    const verified: AuthenticationParameters = {
      ...rest,
      hint: { sub: hint.sub, ...(hint.sid !== undefined ? { sid: hint.sid } : {}) },
    };
    return { ...checked, request: { ...checked.request, authentication: verified } };
  }

  /** RFC 9700 §2.1.1: a constant code_challenge is logged, not refused. */
  private observeChallenge(codeChallenge: string, clientId: string, correlationId: string): void {
    const seen = this.challenges.observe(codeChallenge, clientId, this.clock().getTime());
    if (!seen.reused) return;
    this.logger.warn({
      msg:
        `code_challenge reused: ${seen.count} authorization requests within the hour ` +
        `(client_id ${seen.clientIds.join(', ')}); RFC 9700 §2.1.1`,
      correlationId,
    });
  }

  async resume(request: ResumeRequest): Promise<FrontChannelResult> {
    const tx = await this.browser.openTransaction(request.tx);
    if (tx === null) return expired();
    const client = tx.kind === 'account' ? null : await this.responses.findClient(clientIdOf(tx));
    if (tx.kind !== 'account' && (client === null || client.status !== 'active'))
      return errorPage(400, 'invalid_request', 'unknown client');
    if (tx.kind === 'account') return this.proceed(tx, request.tx, client, request.browser, request.context);
    return this.responses.orUnavailable(targetOf(tx), request.context.correlationId, () =>
      this.proceed(tx, request.tx, client, request.browser, request.context),
    );
  }

  /**
   * After the checks: the login page, the consent page, or the authorization response. OpenID
   * Connect Core §3.1.2.1: prompt=none never shows a page (login_required, consent_required by
   * redirect, §3.1.2.6); prompt=login, select_account and max_age ask for a login again.
   */
  private async proceed(
    tx: Transaction,
    sealed: string,
    client: ClientView | null,
    browser: BrowserState,
    context: RequestContext,
  ): Promise<FrontChannelResult> {
    const session = await this.browser.current(browser.session);
    const authentication = tx.kind === 'authorize' ? tx.request.authentication : undefined;
    const hint = authentication?.hint;
    const pairwise = client?.subjectType === 'pairwise';
    const step = authenticationStep(
      authentication,
      session === null
        ? null
        : {
            authTime: session.state.authTime,
            ...(hint !== undefined
              ? {
                  hintNamesUser: hintNamesUser(
                    hint,
                    { sid: session.state.sid, sub: session.user.sub },
                    pairwise,
                  ),
                }
              : {}),
          },
      { startedAt: this.browser.startedAt(tx), now: this.clock().getTime() },
    );
    if (step === 'login_required' && tx.kind === 'authorize')
      return this.redirectError(tx, 'login_required', 'the end-user must log in');
    // RFC 6749 §3.1, RFC 9700 §4.11.2 (open redirector): the user logs in before any other redirect.
    if (step !== 'proceed' || session === null) return this.pages.login(tx, sealed, client, browser, 200);
    switch (tx.kind) {
      case 'account':
        return { kind: 'redirect', location: '/account' };
      case 'authorize-error':
        return { kind: 'redirect', location: this.responses.url(tx.target, tx.error) };
      case 'authorize': {
        const { state } = await aggregateStream(
          this.store,
          consentStreamId(session.user.sub, tx.request.clientId),
          { evolve: evolveConsent, initial: initialConsentState },
        );
        const prompt = tx.request.authentication?.prompt ?? [];
        // A remembered consent for the same or fewer scopes skips the page, unless prompt=consent.
        if (consentCovers(state, tx.request.scope) && !prompt.includes('consent'))
          return this.codes.issue(tx, session, context);
        if (prompt.includes('none'))
          return this.redirectError(tx, 'consent_required', 'the end-user must consent');
        return this.pages.consent(tx, sealed, client!, session);
      }
      default: {
        const unknown: never = tx;
        throw new Error(`unknown transaction ${(unknown as { kind: string }).kind}`);
      }
    }
  }

  private redirectError(
    tx: Extract<Transaction, { kind: 'authorize' }>,
    error: 'login_required' | 'consent_required',
    description: string,
  ): FrontChannelResult {
    return { kind: 'redirect', location: this.responses.url(tx.request, { error, description }) };
  }
}
