import { Inject, Injectable } from '@nestjs/common';
import type { IssuerConfig, SecretHashingConfig } from '#lib/config';
import {
  type ClientView,
  type IntrospectRequest,
  type IntrospectResponse,
  type RefreshTokenIntrospection,
} from '#lib/contracts';
import {
  authenticateCaller,
  CALLER,
  type Caller,
  CLIENT_MOVED,
  ClientDirectory,
  clientStreamId,
  confirmClients,
  onCurrentClient,
} from '#lib/domain-client';
import { GRANT_FOLD, grantIdOf, grantStreamId, grantTokenHasher } from '#lib/domain-grant';
import {
  introspectionResponse,
  introspectRefreshToken,
  requireConfidentialCaller,
  type TokenStateRow,
} from '#lib/domain-token';
import { type EventStore, loadAggregate } from '#lib/event-store';
import { EVENT_STORE, ISSUER_CONFIG, type RpcClient, SECRET_HASHING_CONFIG } from '#lib/service-runtime';
import { type AccessTokenClaims, AccessTokenInvalid, type KeyringVerifier } from '#lib/signing-keys';
import { CLIENT_DIRECTORY, KEYRING_VERIFIER, SERVICE_RPC } from '../introspection.tokens.js';
import { TokenStateService } from '../token-state/token-state.service.js';
import { Usernames } from './usernames.js';

/**
 * RFC 7662 §2: access tokens: signature and expiry from the JWT, life (revocation, of the token or
 * of its grant) from token_state and the grant stream; refresh tokens (`<grantId>.<secret>`) from
 * their grant stream. The two forms cannot be mistaken for each other, so token_type_hint cannot
 * change the answer (§2.1: the search extends to every type whatever the hint).
 * The caller and the token's client come from the ClientDirectory; before the answer leaves, one
 * read of their streams' versions confirms both are current: a caller changed meanwhile is
 * authenticated again and the request decided again; a token whose client is disabled or deleted is
 * inactive.
 */
@Injectable()
export class IntrospectTokenHandler {
  constructor(
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    @Inject(CLIENT_DIRECTORY) private readonly clients: ClientDirectory,
    @Inject(KEYRING_VERIFIER) private readonly verifier: KeyringVerifier,
    @Inject(ISSUER_CONFIG) private readonly config: IssuerConfig,
    @Inject(SECRET_HASHING_CONFIG) private readonly hashing: SecretHashingConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly tokenState: TokenStateService,
    private readonly usernames: Usernames,
  ) {}

  handle(request: IntrospectRequest): Promise<IntrospectResponse | RefreshTokenIntrospection> {
    return onCurrentClient(async () => {
      const caller = await authenticateCaller(this.clients, this.rpc, request.context, request.credentials);
      requireConfidentialCaller(caller.client);
      const { response, versions, ofUser } = await this.introspect(request, caller);
      const tokenClient = response.active ? [response.client_id] : [];
      const confirmed = await confirmClients(this.clients, caller, tokenClient, versions);
      if (confirmed.callerMoved) return CLIENT_MOVED;
      // Disabling or deleting a client revokes its tokens: they stop introspecting as active.
      if (response.active && !confirmed.isActive(response.client_id)) return { active: false };
      if (!response.active || !ofUser || response.username !== undefined) return response;
      const username = await this.usernames.of(response.sub, request.context);
      return username === null ? response : { ...response, username };
    }, CALLER);
  }

  /** The answer, and the client stream versions read with the token's row (null: none read). */
  private async introspect(
    request: IntrospectRequest,
    caller: Caller,
  ): Promise<{
    response: IntrospectResponse | RefreshTokenIntrospection;
    versions: Map<string, number> | null;
    /** A token of a user's grant (not client_credentials). */
    ofUser: boolean;
  }> {
    const token = typeof request.token === 'string' ? request.token : '';
    const grantId = grantIdOf(token);
    if (grantId !== null) {
      return {
        response: await this.refreshToken(grantId, token, caller.client),
        versions: null,
        ofUser: true,
      };
    }
    let claims: AccessTokenClaims;
    try {
      claims = await this.verifier.verify(token);
    } catch (err) {
      // RFC 7662 §2.2: a token that is not valid is simply inactive.
      if (err instanceof AccessTokenInvalid)
        return { response: { active: false }, versions: null, ofUser: false };
      throw err;
    }
    const streams = [clientStreamId(claims.client_id)];
    if (caller.version !== null) streams.push(clientStreamId(caller.client.clientId));
    const { row, versions } = await this.tokenState.getFreshWithStreamVersions(claims.jti, streams);
    return { response: this.answer(row, caller.client), versions, ofUser: row?.grantId !== undefined };
  }

  private answer(row: TokenStateRow | null, caller: ClientView): IntrospectResponse {
    // RFC 7009 §2.2, RFC 9700 §4.14.2: `row` is revoked when its grant's GrantRevoked event is in the store
    // (reuse detection, a replayed code), whatever the projection has folded (TokenStateService).
    return introspectionResponse(row, caller, Math.floor(Date.now() / 1000), this.config.issuer);
  }

  private async refreshToken(
    grantId: string,
    token: string,
    caller: ClientView,
  ): Promise<RefreshTokenIntrospection | { active: false }> {
    const { state } = await this.grant(grantId);
    return introspectRefreshToken(
      state,
      grantTokenHasher(this.hashing.secretHashKeys, state)(token),
      caller,
      Math.floor(Date.now() / 1000),
      this.config.issuer,
    );
  }

  private grant(grantId: string) {
    return loadAggregate(this.store, grantStreamId(grantId), GRANT_FOLD);
  }
}
