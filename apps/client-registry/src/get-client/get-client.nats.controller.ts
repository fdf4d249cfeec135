import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type GetClientRequest, Subjects } from '#lib/contracts';
import { clientStreamId, clientView, CLIENT_FOLD } from '#lib/domain-client';
import { aggregateStream, type EventStore } from '#lib/event-store';
import { EVENT_STORE } from '#lib/service-runtime';

@Controller()
export class GetClientNatsController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @MessagePattern(Subjects.client.get)
  async get(@Payload() request: GetClientRequest) {
    const { state } = await aggregateStream(this.store, clientStreamId(request.clientId), CLIENT_FOLD);
    return clientView(state);
  }
}
