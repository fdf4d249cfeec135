import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import { type ClientView, Subjects, type TokenGrantRequest, type TokenResponse } from '#lib/contracts';
import { type GrantRegistry, TokenEndpoint } from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { invalidClient } from '#lib/oauth-errors';
import { CONFIG, EVENT_STORE, metrics, type RpcClient } from '#lib/service-runtime';
import { KeyringService } from '../signing-keys/keyring.service.js';
import { GRANT_REGISTRY, SERVICE_RPC } from '../token.tokens.js';

/**
 * The token endpoint's use case (RFC 6749 §3.2, §5): authenticate the client, then the grant's
 * handler decides and TokenEndpoint records and signs (libs/domain-token).
 */
@Injectable()
export class IssueTokenHandler {
  private readonly endpoint: TokenEndpoint;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CONFIG) config: Config,
    @Inject(GRANT_REGISTRY) private readonly grants: GrantRegistry,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    private readonly keyring: KeyringService,
  ) {
    this.endpoint = new TokenEndpoint(store, grants, config.issuer);
  }

  async handle(request: TokenGrantRequest): Promise<TokenResponse> {
    this.grants.resolve(request.parameters.grant_type);
    // RFC 6749 §3.2.1, §5.2: every token request identifies its client.
    if (request.credentials === null) {
      throw invalidClient('client authentication required', {
        headers: { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' },
      });
    }
    const client = await this.rpc.request<ClientView>(Subjects.client.authenticate, {
      context: request.context,
      credentials: request.credentials,
    });
    const key = this.keyring.activeKey();
    const response = await this.endpoint.exchange(
      {
        client,
        parameters: request.parameters,
        resources: request.resources ?? [],
        correlationId: request.context.correlationId,
      },
      { kid: key.kid, sign: (claims) => this.keyring.signer.sign(key, claims) },
    );
    metrics.tokensIssued.inc({ grant_type: request.parameters.grant_type ?? 'unknown' });
    return response;
  }
}
