import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type HealthResponse,
  type IntrospectRequest,
  type RevokeRequest,
  Subjects,
  type TokenHistoryRequest,
} from '#lib/contracts';
import type { EventStore } from '#lib/event-store';
import { EVENT_STORE } from '#lib/service-runtime';
import { IntrospectTokenHandler } from './introspect-token/introspect-token.handler.js';
import { RevokeTokenHandler } from './revoke-token/revoke-token.handler.js';
import { TokenHistoryHandler } from './token-history/token-history.handler.js';

@Controller()
export class IntrospectionNatsController {
  constructor(
    private readonly introspectHandler: IntrospectTokenHandler,
    private readonly revokeHandler: RevokeTokenHandler,
    private readonly historyHandler: TokenHistoryHandler,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @MessagePattern(Subjects.introspection.introspect)
  introspect(@Payload() request: IntrospectRequest) {
    return this.introspectHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.revoke)
  revoke(@Payload() request: RevokeRequest) {
    return this.revokeHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.tokenHistory)
  tokenHistory(@Payload() request: TokenHistoryRequest) {
    return this.historyHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.health)
  async health(): Promise<HealthResponse> {
    await this.store.headPosition();
    return { service: 'introspection', status: 'ok' };
  }
}
