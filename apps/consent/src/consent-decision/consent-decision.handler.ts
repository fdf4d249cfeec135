import { eventsOrThrow } from '#lib/decider';
import { Inject, Injectable } from '@nestjs/common';
import {
  type ConsentDecisionRequest,
  eventMetadata,
  type FrontChannelResult,
  type RequestContext,
} from '#lib/contracts';
import {
  type ConsentCommand,
  consentStreamId,
  decideConsent,
  evolveConsent,
  initialConsentState,
} from '#lib/domain-consent';
import {
  aggregateStream,
  type EventMetadata,
  type EventStore,
  isExpectedVersionConflict,
} from '#lib/event-store';
import { CLOCK, type Clock, EVENT_STORE } from '#lib/service-runtime';
import { AuthorizationResponses } from '../front-channel/authorization-responses.js';
import { BrowserSessions, type Session } from '../front-channel/browser-sessions.js';
import { CodeIssuer } from '../front-channel/code-issuer.js';
import {
  accessDenied,
  type AuthorizeTransaction,
  errorPage,
  expired,
  FrontChannelPages,
  formNotVerified,
} from '../front-channel/pages.js';

/**
 * The consent form posted (RFC 6749 §4.1.2): allowed, the consent is remembered and the code
 * issued; denied, the denial is recorded and the client gets access_denied (RFC 6749 §4.1.2.1).
 */
@Injectable()
export class ConsentDecisionHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly browser: BrowserSessions,
    private readonly pages: FrontChannelPages,
    private readonly responses: AuthorizationResponses,
    private readonly codes: CodeIssuer,
  ) {}

  async handle(request: ConsentDecisionRequest): Promise<FrontChannelResult> {
    const crossSite = this.pages.crossSite(request.browser);
    if (crossSite) return crossSite;
    const tx = await this.browser.openTransaction(request.form.tx ?? '');
    if (tx === null) return expired();
    const session = await this.browser.current(request.browser.session);
    // RFC 6749 §10.12: the CSRF token is bound to this transaction and this session.
    if (session === null || !this.browser.csrf.check(request.form.csrf, tx.id, session.cookie))
      return formNotVerified();
    if (tx.kind !== 'authorize') return errorPage(400, 'invalid_request', 'nothing to consent to');
    const metadata = eventMetadata(request.context, `user:${session.user.sub}`);
    if (request.form.decision !== 'allow') {
      await this.deny(tx, session, metadata);
      return {
        kind: 'redirect',
        location: this.responses.url(tx.request, accessDenied('the user denied the request')),
      };
    }
    return this.responses.orUnavailable(tx.request, request.context.correlationId, () =>
      this.allow(tx, session, metadata, request.context),
    );
  }

  /** The denial recorded once; a concurrent decision that came first stands. */
  private async deny(tx: AuthorizeTransaction, session: Session, metadata: EventMetadata): Promise<void> {
    const streamId = consentStreamId(session.user.sub, tx.request.clientId);
    const { version, state } = await aggregateStream(this.store, streamId, {
      evolve: evolveConsent,
      initial: initialConsentState,
    });
    const events = eventsOrThrow(decideConsent(this.command('DenyConsent', tx, session), state));
    await this.store
      .appendToStream(
        streamId,
        version,
        events.map((e) => ({ ...e, metadata })),
      )
      .catch((err: unknown) => {
        if (!isExpectedVersionConflict(err)) throw err;
      });
  }

  /** The remembered consent (when it changed), then the code (RFC 6749 §4.1.2). */
  private async allow(
    tx: AuthorizeTransaction,
    session: Session,
    metadata: EventMetadata,
    context: RequestContext,
  ): Promise<FrontChannelResult> {
    const streamId = consentStreamId(session.user.sub, tx.request.clientId);
    for (let attempt = 0; ; attempt++) {
      const { version, state } = await aggregateStream(this.store, streamId, {
        evolve: evolveConsent,
        initial: initialConsentState,
      });
      const events = eventsOrThrow(decideConsent(this.command('GrantConsent', tx, session), state));
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
    return this.codes.issue(tx, session, context);
  }

  private command(
    type: 'GrantConsent' | 'DenyConsent',
    tx: AuthorizeTransaction,
    session: Session,
  ): ConsentCommand {
    return {
      type,
      sub: session.user.sub,
      clientId: tx.request.clientId,
      scope: tx.request.scope,
      now: this.clock(),
    };
  }
}
