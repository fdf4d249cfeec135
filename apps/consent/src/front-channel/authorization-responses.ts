import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IssuerConfig } from '#lib/config';
import type { ClientView, FrontChannelResult } from '#lib/contracts';
import { type AuthorizationError, authorizationResponseUrl } from '#lib/domain-authorization';
import type { ClientViews } from '#lib/domain-client';
import { OAuthError } from '#lib/oauth-errors';
import { ISSUER_CONFIG } from '#lib/service-runtime';
import { CLIENT_VIEWS } from '../consent.tokens.js';

type ResponseTarget = Parameters<typeof authorizationResponseUrl>[0];

/** The authorization response (RFC 6749 §4.1.2) and the client it goes to. */
@Injectable()
export class AuthorizationResponses {
  private readonly logger = new Logger('FrontChannel');

  constructor(
    @Inject(ISSUER_CONFIG) private readonly config: IssuerConfig,
    @Inject(CLIENT_VIEWS) private readonly clients: ClientViews,
  ) {}

  /** The redirect URI with the code or the error (and `iss`, RFC 9207 §2). */
  url(target: ResponseTarget, outcome: { code: string } | AuthorizationError): string {
    return authorizationResponseUrl(target, this.config.issuer, outcome);
  }

  /**
   * RFC 6749 §4.1.2.1: once the redirect URI is known, a failure of ours goes
   * back to the client as temporarily_unavailable, never as a bare 500.
   */
  async orUnavailable(
    target: ResponseTarget,
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
        location: this.url(target, {
          error: 'temporarily_unavailable',
          description: 'the authorization server cannot complete the request now; try again later',
        }),
      };
    }
  }

  /**
   * The client as it is now, or null when there is none of that id: read from its stream under
   * ClientViews' freshness rule (its stream's version read before the request is decided on it).
   */
  findClient(clientId: string): Promise<ClientView | null> {
    return this.clients.view(clientId);
  }
}
