import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import type { AuthenticateClientRequest, ClientView } from '#lib/contracts';
import { authenticateClient, clientStreamId, evolveClient, initialClientState } from '#lib/domain-client';
import { aggregateStream, type EventStore } from '#lib/event-store';
import { invalidClient } from '#lib/oauth-errors';
import { CONFIG, EVENT_STORE } from '#lib/service-runtime';

@Injectable()
export class AuthenticateClientHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async handle(request: AuthenticateClientRequest): Promise<ClientView> {
    const presented = request.credentials;
    if (typeof presented?.clientId !== 'string' || presented.clientId.length > 256) throw invalidClient();
    const { state } = await aggregateStream(
      this.store,
      clientStreamId(presented.clientId),
      evolveClient,
      initialClientState,
    );
    return authenticateClient(state, presented, this.config.secretPepper);
  }
}
