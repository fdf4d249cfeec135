import { Inject, Injectable } from '@nestjs/common';
import type { AsOfRequest, TokenAsOfResponse } from '#lib/contracts';
import { accessTokenStreamId, evolveAccessToken, initialAccessTokenState } from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { EVENT_STORE } from '#lib/service-runtime';
import { instant } from '../audit-event.js';

/** A token's state at an instant: its stream replayed up to the events recorded by then. */
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
    return {
      jti: token.jti,
      asOf: asOf.toISOString(),
      status: state.status === 'revoked' ? 'revoked' : expired ? 'expired' : 'active',
      clientId: token.clientId,
      sub: token.sub,
      scope: token.scope,
      aud: token.aud,
      iat: token.iat,
      exp: token.exp,
      ...(state.status === 'revoked' ? { revokedAt: state.revokedAt } : {}),
      position: events[events.length - 1]!.globalPosition,
    };
  }
}
