import { Controller, Inject, Module } from '@nestjs/common';
import { type ClientProxy, ClientsModule, MessagePattern, Transport } from '@nestjs/microservices';
import { type Config, loadConfig } from '#lib/config';
import { type HealthResponse, Subjects } from '#lib/contracts';
import type { EventStore } from '#lib/event-store';
import {
  CONFIG,
  EVENT_STORE,
  EventStoreModule,
  natsConnectionOptions,
  RpcClient,
  AdminAuthModule,
} from '#lib/service-runtime';
import { SERVICE_RPC, SERVICES_PROXY } from './consent.tokens.js';
import { FrontChannelHandler } from './front-channel/front-channel.handler.js';
import { FrontChannelNatsController } from './front-channel/front-channel.nats.controller.js';
import { LoginThrottleService } from './front-channel/login-throttle.service.js';
import { UserProjectionsService } from './users/user-projections.service.js';
import { UsersNatsController } from './users/users.nats.controller.js';
import { UsersService } from './users/users.service.js';

/**
 * The consent service: resource owners and their login, consent decisions and authorization
 * codes (issue 4).
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

const config = loadConfig();

@Module({
  imports: [
    EventStoreModule.forService('consent'),
    AdminAuthModule.forService('consent'),
    ClientsModule.register([
      { name: SERVICES_PROXY, transport: Transport.NATS, options: natsConnectionOptions(config, 'consent') },
    ]),
  ],
  controllers: [ConsentHealthNatsController, FrontChannelNatsController, UsersNatsController],
  providers: [
    {
      provide: SERVICE_RPC,
      inject: [SERVICES_PROXY, CONFIG],
      useFactory: (proxy: ClientProxy, c: Config) => new RpcClient(proxy, c.rpcTimeoutMs),
    },
    UserProjectionsService,
    UsersService,
    LoginThrottleService,
    FrontChannelHandler,
  ],
})
export class ConsentModule {}
