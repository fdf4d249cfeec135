import { Inject, Injectable } from '@nestjs/common';
import { type RevokeRequest, Subjects, type TokenRevocationResponse } from '#lib/contracts';
import { metrics, type RpcClient, useMetrics } from '#lib/service-runtime';
import { SERVICE_RPC } from '../introspection.tokens.js';
import { TokenStateService } from '../token-state/token-state.service.js';

/**
 * RFC 7009 §2.1: /revoke. The token service owns the grants and access tokens revoked, so it
 * authenticates the caller, decides and appends; this service answers only once its token_state
 * shows the revocation, so that introspection that follows the answer says inactive on every
 * replica (RFC 7009 §2.2: the token is invalid once the 200 is sent).
 */
@Injectable()
export class RevokeTokenHandler {
  constructor(
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    private readonly tokenState: TokenStateService,
  ) {
    useMetrics('tokensRevoked');
  }

  async handle(request: RevokeRequest): Promise<Record<string, never>> {
    const { position } = await this.rpc.request<TokenRevocationResponse>(
      Subjects.token.revoke,
      request,
      request.context?.correlationId,
    );
    if (position === null) return {};
    metrics.tokensRevoked.inc();
    await this.tokenState.waitFor(position);
    return {};
  }
}
