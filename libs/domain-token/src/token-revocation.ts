import type { ClientView, RequestContext, TokenRevocationResponse } from '#lib/contracts';
import { eventMetadata } from '#lib/contracts';
import { GRANT_FOLD, grantIdOf, grantStreamId, grantTokenHasher } from '#lib/domain-grant';
import {
  aggregateStream,
  type EventStore,
  isExpectedVersionConflict,
  loadAggregate,
  type NewEvent,
} from '#lib/event-store';
import type { Keyset } from '#lib/keysets';
import { temporarilyUnavailable } from '#lib/oauth-errors';
import {
  accessTokenStreamId,
  decideAccessToken,
  evolveAccessToken,
  initialAccessTokenState,
} from './access-token.js';
import { checkRevocationAllowed } from './introspection.js';
import { isRefreshTokenOfFamily, refreshTokenRevocation } from './refresh-token-introspection.js';

/** What a revocation needs of an access token: null when it is not one of ours, or not valid. */
export type VerifyAccessToken = (token: string) => Promise<{ client_id: string; jti: string } | null>;

const ATTEMPTS = 3;

/**
 * RFC 7009 §2.1, decided and recorded by the owner of `grant-*` and `access-token-*`: an access
 * token is revoked on its own stream (AccessTokenRevoked, kept by introspection's token_state until
 * `exp`); a refresh token revokes its grant (GrantRevoked: the family and every access token issued
 * from it, RFC 9700 §4.14.2). The answer carries the event's global position, so that the caller
 * answers only once its read model has it.
 */
export class TokenRevocation {
  constructor(
    private readonly store: EventStore,
    private readonly secretHashKeys: Keyset,
    private readonly verifyAccessToken: VerifyAccessToken,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async revoke(token: string, caller: ClientView, context: RequestContext): Promise<TokenRevocationResponse> {
    const metadata = eventMetadata(context, `client:${caller.clientId}`);
    const grantId = grantIdOf(token);
    if (grantId !== null) return this.revokeRefreshToken(grantId, token, caller, metadata);
    // RFC 7009 §2.2: invalid, unknown or expired tokens do not cause an error response.
    const claims = await this.verifyAccessToken(token);
    if (claims === null) return { position: null };
    if (checkRevocationAllowed(claims.client_id, caller) === 'ignore') return { position: null };
    const streamId = accessTokenStreamId(claims.jti);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const { state, version } = await aggregateStream(this.store, streamId, {
        evolve: evolveAccessToken,
        initial: initialAccessTokenState,
      });
      const events = decideAccessToken(
        { type: 'RevokeAccessToken', revokedBy: caller.clientId, now: this.now() },
        state,
      );
      if (events.length === 0) return { position: null };
      // Revocation is safe to re-decide: a concurrent revocation makes the next decision empty.
      const position = await this.record(streamId, version, events, metadata);
      if (position !== null) return { position };
    }
    return { position: null };
  }

  private async revokeRefreshToken(
    grantId: string,
    token: string,
    caller: ClientView,
    metadata: ReturnType<typeof eventMetadata>,
  ): Promise<TokenRevocationResponse> {
    const streamId = grantStreamId(grantId);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const { state, version } = await loadAggregate(this.store, streamId, GRANT_FOLD);
      const tokenHash = grantTokenHasher(this.secretHashKeys, state)(token);
      const ofFamily = await isRefreshTokenOfFamily(this.store, state, tokenHash);
      const events = refreshTokenRevocation(state, ofFamily, caller, this.now());
      if (events.length === 0) return { position: null };
      // A rotation or another revocation won the race: re-read and re-decide (the token may now
      // be a rotated one of the family, still revocable; or the grant is revoked already).
      const position = await this.record(streamId, version, events, metadata);
      if (position !== null) return { position };
    }
    // RFC 7009 §2.2: the 200 says the token is revoked; never send it when nothing was recorded.
    throw temporarilyUnavailable(`grant ${grantId}: revocation lost the race ${ATTEMPTS} times`);
  }

  /** Appends at the version decided on; null when another write won the race. */
  private async record(
    streamId: string,
    version: number,
    events: NewEvent[],
    metadata: ReturnType<typeof eventMetadata>,
  ): Promise<number | null> {
    try {
      const result = await this.store.appendToStream(
        streamId,
        version,
        events.map((e) => ({ ...e, metadata })),
      );
      return result.lastGlobalPosition;
    } catch (err) {
      if (!isExpectedVersionConflict(err)) throw err;
      return null;
    }
  }
}
