import { Inject, Injectable } from '@nestjs/common';
import type { AsOfRequest, TokenAsOfResponse } from '#lib/contracts';
import { GRANT_FOLD, grantStreamId } from '#lib/domain-grant';
import { accessTokenStreamId, evolveAccessToken, initialAccessTokenState } from '#lib/domain-token';
import { type EventStore, foldEvents } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { EVENT_STORE } from '#lib/service-runtime';
import { instant } from '../audit-request.js';

/**
 * A token's state at an instant: its stream replayed up to the events recorded by then, and, for a
 * token of a grant, the grant's stream too (a GrantRevoked by then revokes the token).
 */
@Injectable()
export class TokenAsOfHandler {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async handle(request: AsOfRequest): Promise<TokenAsOfResponse> {
    const asOf = instant(request.asOf, 'as_of') ?? new Date();
    const events = await this.store.readStream(accessTokenStreamId(request.id), { upTo: asOf });
    const state = events.reduce(evolveAccessToken, initialAccessTokenState());
    if (state.status === 'none') throw notFound('no token with this jti at that instant');
    const { token } = state;
    const expired = token.exp * 1000 <= asOf.getTime();
    const grantRevoked = await this.grantRevoked(token.grantId, asOf);
    const revokedAt = state.status === 'revoked' ? state.revokedAt : grantRevoked?.at;
    const position = Math.max(events[events.length - 1]!.globalPosition, grantRevoked?.position ?? 0);
    return {
      jti: token.jti,
      asOf: asOf.toISOString(),
      status: revokedAt !== undefined ? 'revoked' : expired ? 'expired' : 'active',
      clientId: token.clientId,
      sub: token.sub,
      scope: token.scope,
      aud: token.aud,
      iat: token.iat,
      exp: token.exp,
      ...(revokedAt !== undefined ? { revokedAt } : {}),
      position,
    };
  }

  /** RFC 7009 §2.1: the revocation of the token's grant, if it was recorded by `asOf`. */
  private async grantRevoked(
    grantId: string | undefined,
    asOf: Date,
  ): Promise<{ at: string; position: number } | undefined> {
    if (grantId === undefined) return undefined;
    const events = await this.store.readStream(grantStreamId(grantId), { upTo: asOf });
    if (foldEvents(GRANT_FOLD, events).status !== 'revoked') return undefined;
    const revoked = events.find((e) => e.type === 'GrantRevoked')!;
    return { at: (revoked.data as { at: string }).at, position: revoked.globalPosition };
  }
}
