import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import { type ClientView, Subjects, type TokenRequest, type TokenResponse } from '#lib/contracts';
import {
  accessTokenStreamId,
  decideAccessToken,
  type GrantRegistry,
  initialAccessTokenState,
  type IssueAccessToken,
} from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { invalidClient } from '#lib/oauth-errors';
import { formatScope } from '#lib/oauth-protocol';
import { CONFIG, EVENT_STORE, metrics, type RpcClient } from '#lib/service-runtime';
import { randomBytes } from 'node:crypto';
import { KeyringService } from '../signing-keys/keyring.service.js';
import { GRANT_REGISTRY, SERVICE_RPC } from '../token.tokens.js';

/**
 * The token endpoint's use case (RFC 6749 §3.2, §5): authenticate the client, let the grant's
 * handler decide, record the issuance, then sign. A token leaves only after its
 * AccessTokenIssued event is committed (ARCHITECTURE.md: security-relevant reads are never stale).
 */
@Injectable()
export class IssueTokenHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(GRANT_REGISTRY) private readonly grants: GrantRegistry,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    private readonly keyring: KeyringService,
  ) {}

  async handle(request: TokenRequest): Promise<TokenResponse> {
    const grant = this.grants.resolve(request.parameters.grant_type);
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
    const decision = await grant.handle({
      client,
      parameters: request.parameters,
      now: new Date(),
      jti: randomBytes(16).toString('base64url'),
      kid: key.kid,
    });
    return this.issue(decision.issue, request, key);
  }

  private async issue(
    command: IssueAccessToken,
    request: TokenRequest,
    key: ReturnType<KeyringService['activeKey']>,
  ): Promise<TokenResponse> {
    const events = decideAccessToken(command, initialAccessTokenState());
    await this.store.appendToStream(
      accessTokenStreamId(command.jti),
      0,
      events.map((e) => ({
        ...e,
        metadata: { correlationId: request.context.correlationId, actor: `client:${command.clientId}` },
      })),
    );
    const iat = Math.floor(command.now.getTime() / 1000);
    const accessToken = await this.keyring.signer.sign(key, {
      iss: this.config.issuer,
      sub: command.sub,
      aud: command.aud.length === 1 ? command.aud[0]! : command.aud,
      exp: iat + command.ttlSeconds,
      iat,
      jti: command.jti,
      client_id: command.clientId,
      scope: formatScope(command.scope),
    });
    metrics.tokensIssued.inc({ grant_type: request.parameters.grant_type ?? 'unknown' });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: command.ttlSeconds,
      // RFC 6749 §5.1: scope is returned always, so the client need not compare.
      scope: formatScope(command.scope),
    };
  }
}
