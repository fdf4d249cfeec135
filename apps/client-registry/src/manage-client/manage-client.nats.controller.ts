import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type AdminClientRequest,
  type AdminCreateClientRequest,
  type AdminUpdateClientRequest,
  type ClientManagementRequest,
  type ClientPrivilegeRequest,
  type CreateInitialAccessTokenRequest,
  type ListClientsRequest,
  type ListInitialAccessTokensRequest,
  type RegisterDynamicClientRequest,
  type RevokeInitialAccessTokenRequest,
  Subjects,
  type UpdateClientRequest,
} from '#lib/contracts';
import { AdminGate } from '#lib/service-runtime';
import { ClientStreamHistoryHandler } from '../client-history/client-stream-history.handler.js';
import { RegisterDynamicClientHandler } from '../dynamic-registration/register-dynamic-client.handler.js';
import { InitialAccessTokenHandler } from '../initial-access-token/initial-access-token.handler.js';
import { ClientsProjectionService } from '../list-clients/clients-projection.service.js';
import { ManageClientHandler } from './manage-client.handler.js';

/** RFC 7591/7592 for clients themselves, and the administrator's operations (each admitted first). */
@Controller()
export class ManageClientNatsController {
  constructor(
    private readonly manage: ManageClientHandler,
    private readonly dynamic: RegisterDynamicClientHandler,
    private readonly history: ClientStreamHistoryHandler,
    private readonly initialAccessTokens: InitialAccessTokenHandler,
    private readonly clients: ClientsProjectionService,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.client.registerDynamic)
  registerDynamic(@Payload() request: RegisterDynamicClientRequest) {
    return this.dynamic.selfService(request);
  }

  @MessagePattern(Subjects.client.read)
  read(@Payload() request: ClientManagementRequest) {
    return this.manage.readOwn(request);
  }

  @MessagePattern(Subjects.client.update)
  update(@Payload() request: UpdateClientRequest) {
    return this.manage.updateOwn(request);
  }

  @MessagePattern(Subjects.client.delete)
  delete(@Payload() request: ClientManagementRequest) {
    return this.manage.deleteOwn(request);
  }

  @MessagePattern(Subjects.client.corsOrigins)
  corsOrigins() {
    return this.clients.corsOrigins();
  }

  @MessagePattern(Subjects.client.admin.create)
  async create(@Payload() request: AdminCreateClientRequest) {
    return this.dynamic.byAdministrator(request, await this.gate.admit(request));
  }

  @MessagePattern(Subjects.client.admin.read)
  async adminRead(@Payload() request: AdminClientRequest) {
    await this.gate.admit(request);
    return this.manage.read(request);
  }

  @MessagePattern(Subjects.client.admin.update)
  async adminUpdate(@Payload() request: AdminUpdateClientRequest) {
    return this.manage.updateAsAdministrator(request, await this.gate.admit(request));
  }

  @MessagePattern(Subjects.client.admin.disable)
  async disable(@Payload() request: AdminClientRequest) {
    return this.manage.disable(request, await this.gate.admit(request));
  }

  @MessagePattern(Subjects.client.admin.delete)
  async adminDelete(@Payload() request: AdminClientRequest) {
    return this.manage.delete(request, await this.gate.admit(request));
  }

  @MessagePattern(Subjects.client.admin.grantScope)
  async grantScope(@Payload() request: ClientPrivilegeRequest) {
    return this.manage.grantScope(request, await this.gate.admit(request));
  }

  @MessagePattern(Subjects.client.admin.revokeScope)
  async revokeScope(@Payload() request: ClientPrivilegeRequest) {
    return this.manage.revokeScope(request, await this.gate.admit(request));
  }

  @MessagePattern(Subjects.client.admin.history)
  async clientHistory(@Payload() request: AdminClientRequest) {
    await this.gate.admit(request);
    return this.history.handle(request);
  }

  @MessagePattern(Subjects.client.admin.list)
  async list(@Payload() request: ListClientsRequest) {
    await this.gate.admit(request);
    return this.clients.list(request);
  }

  @MessagePattern(Subjects.client.admin.createInitialAccessToken)
  async createInitialAccessToken(@Payload() request: CreateInitialAccessTokenRequest) {
    return this.initialAccessTokens.create(request, await this.gate.admit(request));
  }

  @MessagePattern(Subjects.client.admin.listInitialAccessTokens)
  async listInitialAccessTokens(@Payload() request: ListInitialAccessTokensRequest) {
    await this.gate.admit(request);
    return this.initialAccessTokens.list();
  }

  @MessagePattern(Subjects.client.admin.revokeInitialAccessToken)
  async revokeInitialAccessToken(@Payload() request: RevokeInitialAccessTokenRequest) {
    return this.initialAccessTokens.revoke(request, await this.gate.admit(request));
  }
}
