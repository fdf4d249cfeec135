import { Inject, Injectable } from '@nestjs/common';
import type { SecretHashingConfig } from '#lib/config';
import type { RevokeRequest, TokenRevocationResponse } from '#lib/contracts';
import { authenticateCurrentCaller, ClientDirectory } from '#lib/domain-client';
import { TokenRevocation } from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { EVENT_STORE, type RpcClient, SECRET_HASHING_CONFIG } from '#lib/service-runtime';
import { AccessTokenInvalid, type KeyringVerifier } from '#lib/signing-keys';
import { CLIENT_DIRECTORY, KEYRING_VERIFIER, SERVICE_RPC } from '../token.tokens.js';

/**
 * RFC 7009 §2.1 on the token service, owner of the grants and access tokens it revokes: the caller
 * authenticates here (once: a private_key_jwt assertion is single-use), TokenRevocation decides and
 * appends (libs/domain-token). The introspection service, which serves /revoke, forwards the
 * request and answers once its token_state has the returned position.
 */
@Injectable()
export class RevokeTokenHandler {
  private readonly revocation: TokenRevocation;

  constructor(
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    @Inject(CLIENT_DIRECTORY) private readonly clients: ClientDirectory,
    @Inject(KEYRING_VERIFIER) verifier: KeyringVerifier,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(SECRET_HASHING_CONFIG) config: SecretHashingConfig,
  ) {
    this.revocation = new TokenRevocation(store, config.secretHashKeys, async (token) => {
      try {
        return await verifier.verify(token);
      } catch (err) {
        if (err instanceof AccessTokenInvalid) return null;
        throw err;
      }
    });
  }

  async handle(request: RevokeRequest): Promise<TokenRevocationResponse> {
    const caller = await authenticateCurrentCaller(
      this.clients,
      this.rpc,
      request.context,
      request.credentials,
    );
    const token = typeof request.token === 'string' ? request.token : '';
    return this.revocation.revoke(token, caller, request.context);
  }
}
