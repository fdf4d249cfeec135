import { Inject, Injectable } from '@nestjs/common';
import type { SecretHashingConfig } from '#lib/config';
import {
  type FrontChannelResult,
  type IssueAuthorizationCodeRequest,
  type IssueAuthorizationCodeResponse,
  type RequestContext,
  Subjects,
} from '#lib/contracts';
import { grantIdForTransaction } from '#lib/domain-authorization';
import { hashGrantToken, mintGrantToken } from '#lib/domain-grant';
import { CLOCK, type Clock, type RpcClient, SECRET_HASHING_CONFIG } from '#lib/service-runtime';
import { SERVICE_RPC } from '../consent.tokens.js';
import { AuthorizationResponses } from './authorization-responses.js';
import { BrowserSessions, type Session } from './browser-sessions.js';

/** A use of a session is recorded (SessionExtended) when the last recorded one is this old. */
const RECORD_USE_AFTER_SECONDS = 300;
import { type AuthorizeTransaction, errorPage } from './pages.js';

/**
 * RFC 6749 §4.1.2: the code. The token service owns every grant stream, so it records the grant;
 * the grant id comes from the transaction, so a second code for it is refused there (RFC 6749
 * §10.5: a code is issued once).
 *
 * The code is minted and hashed here and only its keyed hash crosses the bus: the clear code
 * leaves this process in the redirect to the client alone, never in a message another service or
 * a NATS operator could read (ARCHITECTURE: no bearer secret is written anywhere but its hash).
 */
@Injectable()
export class CodeIssuer {
  constructor(
    @Inject(SECRET_HASHING_CONFIG) private readonly config: SecretHashingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly browser: BrowserSessions,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    private readonly responses: AuthorizationResponses,
  ) {}

  async issue(
    tx: AuthorizeTransaction,
    session: Session,
    context: RequestContext,
  ): Promise<FrontChannelResult> {
    const req = tx.request;
    // The client is recorded on the session (the clients a logout must reach) before the code leaves.
    await this.browser.store.change(
      session.session.sid,
      {
        type: 'UseSession',
        clientId: req.clientId,
        recordUseAfterSeconds: RECORD_USE_AFTER_SECONDS,
        now: this.clock(),
      },
      { actor: `user:${session.user.sub}`, context },
    );
    const grantId = grantIdForTransaction(tx.id);
    const code = mintGrantToken(grantId);
    const request: IssueAuthorizationCodeRequest = {
      context,
      actor: `user:${session.user.sub}`,
      grantId,
      clientId: req.clientId,
      sub: session.user.sub,
      scope: req.scope,
      ...(req.resource.length > 0 ? { resource: req.resource } : {}),
      redirectUri: req.redirectUri,
      deliveredTo: req.deliveredTo,
      codeChallenge: req.codeChallenge,
      codeHash: hashGrantToken(code, this.config.secretHashKeys),
      authTime: Math.floor(session.state.authTime / 1000),
      sid: session.state.sid,
      amr: session.state.amr,
      acr: session.state.acr,
      // OpenID Connect Core §3.1.2.1: the nonce goes into the ID token unmodified.
      ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
      // Core §5.5: the individual claims the consented request named ride on its grant.
      ...(req.authentication?.claims !== undefined ? { claims: req.authentication.claims } : {}),
    };
    const issued = await this.rpc.request<IssueAuthorizationCodeResponse>(
      Subjects.token.issueAuthorizationCode,
      request,
      context.correlationId,
    );
    if (issued.outcome === 'already-issued')
      return errorPage(400, 'invalid_request', 'this authorization request has already been answered');
    return { kind: 'redirect', location: this.responses.url(req, { code }) };
  }
}
