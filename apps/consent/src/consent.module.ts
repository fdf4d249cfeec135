import { Controller, Inject, Module } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { type HealthResponse, Subjects } from '#lib/contracts';
import type { EventStore } from '#lib/event-store';
import { EVENT_STORE, EventStoreModule } from '#lib/service-runtime';

/**
 * The consent service will own resource owners, login, consent decisions and authorization codes
 * (issue 4). In the walking skeleton it runs, joins the event store and answers health checks.
 */
@Controller()
export class ConsentHealthNatsController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @MessagePattern(Subjects.consent.health)
  async health(): Promise<HealthResponse> {
    await this.store.headPosition();
    return { service: 'consent', status: 'ok' };
  }
}

@Module({
  imports: [EventStoreModule.forService('consent')],
  controllers: [ConsentHealthNatsController],
})
export class ConsentModule {}
