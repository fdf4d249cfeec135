import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { TokenStatusRequest, TokenStatusResponse } from '#lib/contracts';
import { TokenStateService } from './token-state/token-state.service.js';
import {
  type AsOfRequest,
  type ClientHistoryRequest,
  type GrantHistoryRequest,
  type HealthResponse,
  type IntrospectRequest,
  type RevokeRequest,
  Subjects,
  type TokenHistoryRequest,
  type UserHistoryRequest,
} from '#lib/contracts';
import type { EventStore } from '#lib/event-store';
import { AdminGate, EVENT_STORE } from '#lib/service-runtime';
import { ClientAsOfHandler } from './client-as-of/client-as-of.handler.js';
import { ClientHistoryHandler } from './client-history/client-history.handler.js';
import { GrantAsOfHandler } from './grant-as-of/grant-as-of.handler.js';
import { GrantHistoryHandler } from './grant-history/grant-history.handler.js';
import { IntrospectTokenHandler } from './introspect-token/introspect-token.handler.js';
import { RevokeTokenHandler } from './revoke-token/revoke-token.handler.js';
import { TokenAsOfHandler } from './token-as-of/token-as-of.handler.js';
import { TokenHistoryHandler } from './token-history/token-history.handler.js';
import { UserHistoryHandler } from './user-history/user-history.handler.js';

@Controller()
export class IntrospectionNatsController {
  constructor(
    private readonly introspectHandler: IntrospectTokenHandler,
    private readonly revokeHandler: RevokeTokenHandler,
    private readonly historyHandler: TokenHistoryHandler,
    private readonly tokenAsOfHandler: TokenAsOfHandler,
    private readonly clientHistoryHandler: ClientHistoryHandler,
    private readonly clientAsOfHandler: ClientAsOfHandler,
    private readonly grantHistoryHandler: GrantHistoryHandler,
    private readonly grantAsOfHandler: GrantAsOfHandler,
    private readonly userHistoryHandler: UserHistoryHandler,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly tokenState: TokenStateService,
    private readonly gate: AdminGate,
  ) {}

  /** RFC 7009 §2 read-your-writes for the system's own checks: revoked once /revoke answered. */
  @MessagePattern(Subjects.introspection.tokenStatus)
  async tokenStatus(@Payload() request: TokenStatusRequest): Promise<TokenStatusResponse> {
    if (typeof request?.jti !== 'string') return { status: 'unknown' };
    const row = await this.tokenState.getFresh(request.jti);
    return { status: row === null ? 'unknown' : row.status };
  }

  @MessagePattern(Subjects.introspection.introspect)
  introspect(@Payload() request: IntrospectRequest) {
    return this.introspectHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.revoke)
  revoke(@Payload() request: RevokeRequest) {
    return this.revokeHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.tokenHistory)
  async tokenHistory(@Payload() request: TokenHistoryRequest) {
    await this.gate.admit(request);
    return this.historyHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.tokenAsOf)
  async tokenAsOf(@Payload() request: AsOfRequest) {
    await this.gate.admit(request);
    return this.tokenAsOfHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.clientHistory)
  async clientHistory(@Payload() request: ClientHistoryRequest) {
    await this.gate.admit(request);
    return this.clientHistoryHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.clientAsOf)
  async clientAsOf(@Payload() request: AsOfRequest) {
    await this.gate.admit(request);
    return this.clientAsOfHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.grantHistory)
  async grantHistory(@Payload() request: GrantHistoryRequest) {
    await this.gate.admit(request);
    return this.grantHistoryHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.grantAsOf)
  async grantAsOf(@Payload() request: AsOfRequest) {
    await this.gate.admit(request);
    return this.grantAsOfHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.userHistory)
  async userHistory(@Payload() request: UserHistoryRequest) {
    await this.gate.admit(request);
    return this.userHistoryHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.health)
  async health(): Promise<HealthResponse> {
    await this.store.headPosition();
    return { service: 'introspection', status: 'ok' };
  }
}
