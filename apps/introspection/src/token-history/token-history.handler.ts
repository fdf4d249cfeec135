import { Inject, Injectable } from '@nestjs/common';
import type { TokenHistoryRequest, TokenHistoryResponse } from '#lib/contracts';
import { accessTokenStreamId } from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { EVENT_STORE } from '#lib/service-runtime';

/** The audit view of one token: its stream, in order, straight from the event store. */
@Injectable()
export class TokenHistoryHandler {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async handle(request: TokenHistoryRequest): Promise<TokenHistoryResponse> {
    const events = await this.store.readStream(accessTokenStreamId(request.jti));
    if (events.length === 0) throw notFound('no token with this jti');
    return {
      jti: request.jti,
      events: events.map((e) => ({
        position: e.globalPosition,
        streamId: e.streamId,
        version: e.streamVersion,
        type: e.type,
        schemaVersion: e.schemaVersion,
        recordedAt: e.recordedAt.toISOString(),
        data: e.data,
        metadata: { ...e.metadata },
      })),
    };
  }
}
