import { Controller, Inject, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { HealthResponse } from '#lib/contracts';
import type { EventStore } from '#lib/event-store';
import { EVENT_STORE } from './tokens.js';

/**
 * A service's readiness over NATS, as the gateway's /health/ready asks each service: it answers
 * when its event store answers. Made here, once, so that every service with a store answers alike:
 * `controllers: [storeHealthController(Subjects.client.health, 'client-registry'), ...]`.
 */
export function storeHealthController(subject: string, service: string): Type {
  @Controller()
  class StoreHealthNatsController {
    constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

    @MessagePattern(subject)
    async health(): Promise<HealthResponse> {
      await this.store.headPosition();
      return { service, status: 'ok' };
    }
  }
  return StoreHealthNatsController;
}
