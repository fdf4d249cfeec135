import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import { type ClientView, type IntrospectRequest, type IntrospectResponse, Subjects } from '#lib/contracts';
import { introspectionResponse, requireConfidentialCaller } from '#lib/domain-token';
import { OAuthError } from '#lib/oauth-errors';
import { CONFIG, type RpcClient } from '#lib/service-runtime';
import { AccessTokenInvalid, type KeyringVerifier } from '#lib/signing-keys';
import { authenticateCaller } from '../caller.js';
import { KEYRING_VERIFIER, SERVICE_RPC } from '../introspection.tokens.js';
import { TokenStateService } from '../token-state/token-state.service.js';

/** RFC 7662 §2: signature and expiry from the JWT, life (revocation) from token_state. */
@Injectable()
export class IntrospectTokenHandler {
  constructor(
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    @Inject(KEYRING_VERIFIER) private readonly verifier: KeyringVerifier,
    @Inject(CONFIG) private readonly config: Config,
    private readonly tokenState: TokenStateService,
  ) {}

  async handle(request: IntrospectRequest): Promise<IntrospectResponse> {
    const caller = await authenticateCaller(this.rpc, request.context, request.credentials);
    requireConfidentialCaller(caller);
    let jti: string;
    try {
      ({ jti } = await this.verifier.verify(request.token));
    } catch (err) {
      // RFC 7662 §2.2: a token that is not valid is simply inactive.
      if (err instanceof AccessTokenInvalid) return { active: false };
      throw err;
    }
    const row = await this.tokenState.getFresh(jti);
    const response = introspectionResponse(row, caller, Math.floor(Date.now() / 1000), this.config.issuer);
    if (!response.active) return response;
    // Disabling or deleting a client revokes its tokens: they stop introspecting as active.
    return (await this.clientIsActive(response.client_id)) ? response : { active: false };
  }

  private async clientIsActive(clientId: string): Promise<boolean> {
    try {
      const client = await this.rpc.request<ClientView>(Subjects.client.get, { clientId });
      return client.status === 'active';
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'not_found') return false;
      throw err;
    }
  }
}
