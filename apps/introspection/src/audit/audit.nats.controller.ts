import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type AsOfRequest,
  type ClientHistoryRequest,
  type GrantHistoryRequest,
  type SessionHistoryRequest,
  Subjects,
  type TokenHistoryRequest,
  type UserHistoryRequest,
} from '#lib/contracts';
import { AdminGate } from '#lib/service-runtime';
import { ClientAsOfHandler } from './as-of/client-as-of.handler.js';
import { GrantAsOfHandler } from './as-of/grant-as-of.handler.js';
import { SessionAsOfHandler } from './as-of/session-as-of.handler.js';
import { TokenAsOfHandler } from './as-of/token-as-of.handler.js';
import { ClientAuditHistoryHandler } from './history/client-history.handler.js';
import { GrantHistoryHandler } from './history/grant-history.handler.js';
import { SessionHistoryHandler } from './history/session-history.handler.js';
import { TokenHistoryHandler } from './history/token-history.handler.js';
import { UserHistoryHandler } from './history/user-history.handler.js';

/** The audit API over NATS (docs/events.md "Audit API"): every subject admits admins only. */
@Controller()
export class AuditNatsController {
  constructor(
    private readonly tokenHistoryHandler: TokenHistoryHandler,
    private readonly tokenAsOfHandler: TokenAsOfHandler,
    private readonly clientHistoryHandler: ClientAuditHistoryHandler,
    private readonly clientAsOfHandler: ClientAsOfHandler,
    private readonly grantHistoryHandler: GrantHistoryHandler,
    private readonly grantAsOfHandler: GrantAsOfHandler,
    private readonly userHistoryHandler: UserHistoryHandler,
    private readonly sessionHistoryHandler: SessionHistoryHandler,
    private readonly sessionAsOfHandler: SessionAsOfHandler,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.introspection.admin.tokenHistory)
  async tokenHistory(@Payload() request: TokenHistoryRequest) {
    await this.gate.admit(request);
    return this.tokenHistoryHandler.handle(request);
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

  @MessagePattern(Subjects.introspection.admin.sessionHistory)
  async sessionHistory(@Payload() request: SessionHistoryRequest) {
    await this.gate.admit(request);
    return this.sessionHistoryHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.admin.sessionAsOf)
  async sessionAsOf(@Payload() request: AsOfRequest) {
    await this.gate.admit(request);
    return this.sessionAsOfHandler.handle(request);
  }
}
