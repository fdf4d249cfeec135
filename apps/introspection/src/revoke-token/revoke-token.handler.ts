import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import { type ClientView, eventMetadata, type RevokeRequest } from '#lib/contracts';
import { ClientDirectory } from '#lib/domain-client';
import { GRANT_FOLD, grantIdOf, grantStreamId, grantTokenHasher } from '#lib/domain-grant';
import {
  accessTokenStreamId,
  checkRevocationAllowed,
  decideAccessToken,
  evolveAccessToken,
  initialAccessTokenState,
  isRefreshTokenOfFamily,
  refreshTokenRevocation,
} from '#lib/domain-token';
import {
  aggregateStream,
  type EventStore,
  isExpectedVersionConflict,
  loadAggregate,
  type NewEvent,
} from '#lib/event-store';
import { CONFIG, EVENT_STORE, metrics, type RpcClient } from '#lib/service-runtime';
import { temporarilyUnavailable } from '#lib/oauth-errors';
import { AccessTokenInvalid, type KeyringVerifier } from '#lib/signing-keys';
import { authenticateCurrentCaller } from '../caller.js';
import { CLIENT_DIRECTORY, KEYRING_VERIFIER, SERVICE_RPC } from '../introspection.tokens.js';
import { TokenStateService } from '../token-state/token-state.service.js';

/**
 * RFC 7009 §2.1: revoke an access token (a jti denylist kept in token_state until exp, decision 10),
 * or a refresh token: GrantRevoked on its grant stream, which revokes the family and every access
 * token issued from the grant (checklist REV-02, REV-11).
 * Answers only once token_state shows the revocation, so that introspection that follows the
 * answer says inactive on every replica (checklist ES-01).
 */
@Injectable()
export class RevokeTokenHandler {
  constructor(
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    @Inject(CLIENT_DIRECTORY) private readonly clients: ClientDirectory,
    @Inject(KEYRING_VERIFIER) private readonly verifier: KeyringVerifier,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
    private readonly tokenState: TokenStateService,
  ) {}

  async handle(request: RevokeRequest): Promise<Record<string, never>> {
    const caller = await authenticateCurrentCaller(
      this.clients,
      this.rpc,
      request.context,
      request.credentials,
    );
    const token = typeof request.token === 'string' ? request.token : '';
    const grantId = grantIdOf(token);
    if (grantId !== null) return this.revokeRefreshToken(grantId, token, caller, request);
    let claims;
    try {
      claims = await this.verifier.verify(token);
    } catch (err) {
      // RFC 7009 §2.2: invalid, unknown or expired tokens do not cause an error response.
      if (err instanceof AccessTokenInvalid) return {};
      throw err;
    }
    if (checkRevocationAllowed(claims.client_id, caller) === 'ignore') return {};
    const streamId = accessTokenStreamId(claims.jti);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { state, version } = await aggregateStream(
        this.store,
        streamId,
        evolveAccessToken,
        initialAccessTokenState,
      );
      const events = decideAccessToken(
        { type: 'RevokeAccessToken', revokedBy: caller.clientId, now: new Date() },
        state,
      );
      if (events.length === 0) return {};
      // Revocation is safe to re-decide: a concurrent revocation makes the next decision empty.
      if (await this.record(streamId, version, events, caller, request)) return {};
    }
    return {};
  }

  private async revokeRefreshToken(
    grantId: string,
    token: string,
    caller: ClientView,
    request: RevokeRequest,
  ): Promise<Record<string, never>> {
    const streamId = grantStreamId(grantId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { state, version } = await loadAggregate(this.store, streamId, GRANT_FOLD);
      const tokenHash = grantTokenHasher(this.config.secretHashKeys, state)(token);
      const ofFamily = await isRefreshTokenOfFamily(this.store, state, tokenHash);
      const events = refreshTokenRevocation(state, ofFamily, caller, new Date());
      if (events.length === 0) return {};
      // A rotation or another revocation won the race: re-read and re-decide (the token may now
      // be a rotated one of the family, still revocable; or the grant is revoked already).
      if (await this.record(streamId, version, events, caller, request)) return {};
    }
    // Checklist REV-13: never 200 when nothing was recorded.
    throw temporarilyUnavailable(`grant ${grantId}: revocation lost the race three times`);
  }

  /**
   * Appends a revocation at the version it was decided on and answers only once the read model
   * has it (read-your-writes, checklist ES-01). False when another write won the race.
   */
  private async record(
    streamId: string,
    version: number,
    events: NewEvent[],
    caller: ClientView,
    request: RevokeRequest,
  ): Promise<boolean> {
    try {
      const result = await this.store.appendToStream(
        streamId,
        version,
        events.map((e) => ({
          ...e,
          metadata: eventMetadata(request.context, `client:${caller.clientId}`),
        })),
      );
      metrics.tokensRevoked.inc();
      await this.tokenState.waitFor(result.lastGlobalPosition);
      return true;
    } catch (err) {
      if (!isExpectedVersionConflict(err)) throw err;
      return false;
    }
  }
}
