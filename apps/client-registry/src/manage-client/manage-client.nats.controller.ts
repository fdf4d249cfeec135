import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type ClientManagementRequest,
  type CreateInitialAccessTokenRequest,
  type ListClientsRequest,
  type RegisterDynamicClientRequest,
  Subjects,
  type UpdateClientRequest,
} from '#lib/contracts';
import { ClientHistoryHandler } from '../client-history/client-history.handler.js';
import { RegisterDynamicClientHandler } from '../dynamic-registration/register-dynamic-client.handler.js';
import { InitialAccessTokenHandler } from '../initial-access-token/initial-access-token.handler.js';
import { ClientsProjectionService } from '../list-clients/clients-projection.service.js';
import { ManageClientHandler } from './manage-client.handler.js';

@Controller()
export class ManageClientNatsController {
  constructor(
    private readonly manage: ManageClientHandler,
    private readonly dynamic: RegisterDynamicClientHandler,
    private readonly history: ClientHistoryHandler,
    private readonly initialAccessTokens: InitialAccessTokenHandler,
    private readonly clients: ClientsProjectionService,
  ) {}

  @MessagePattern(Subjects.client.registerDynamic)
  registerDynamic(@Payload() request: RegisterDynamicClientRequest) {
    return this.dynamic.handle(request);
  }

  @MessagePattern(Subjects.client.read)
  read(@Payload() request: ClientManagementRequest) {
    return this.manage.read(request);
  }

  @MessagePattern(Subjects.client.update)
  update(@Payload() request: UpdateClientRequest) {
    return this.manage.update(request);
  }

  @MessagePattern(Subjects.client.disable)
  disable(@Payload() request: ClientManagementRequest) {
    return this.manage.disable(request);
  }

  @MessagePattern(Subjects.client.delete)
  delete(@Payload() request: ClientManagementRequest) {
    return this.manage.delete(request);
  }

  @MessagePattern(Subjects.client.history)
  clientHistory(@Payload() request: ClientManagementRequest) {
    return this.history.handle(request);
  }

  @MessagePattern(Subjects.client.list)
  list(@Payload() request: ListClientsRequest) {
    return this.clients.list(request);
  }

  @MessagePattern(Subjects.client.corsOrigins)
  corsOrigins() {
    return this.clients.corsOrigins();
  }

  @MessagePattern(Subjects.client.createInitialAccessToken)
  createInitialAccessToken(@Payload() request: CreateInitialAccessTokenRequest) {
    return this.initialAccessTokens.create(request);
  }
}
