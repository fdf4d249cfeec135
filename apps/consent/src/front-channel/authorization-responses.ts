import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Config } from '#lib/config';
import { type ClientView, type FrontChannelResult, Subjects } from '#lib/contracts';
import { type AuthorizationError, authorizationResponseUrl } from '#lib/domain-authorization';
import { OAuthError } from '#lib/oauth-errors';
import { CONFIG, type RpcClient } from '#lib/service-runtime';
import { SERVICE_RPC } from '../consent.tokens.js';

type ResponseTarget = Parameters<typeof authorizationResponseUrl>[0];

/** The authorization response (RFC 6749 §4.1.2) and the client it goes to. */
@Injectable()
export class AuthorizationResponses {
  private readonly logger = new Logger('FrontChannel');

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
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

  /** The client as the registry has it, or null when it has none of that id. */
  async findClient(clientId: string, correlationId: string): Promise<ClientView | null> {
    try {
      return await this.rpc.request<ClientView>(Subjects.client.get, { clientId }, correlationId);
    } catch (err) {
      if (err instanceof OAuthError && (err.error === 'not_found' || err.error === 'invalid_client'))
        return null;
      throw err;
    }
  }
}
