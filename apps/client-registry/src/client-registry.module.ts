import { Module } from '@nestjs/common';
import { Subjects } from '#lib/contracts';
import {
  ADMIN_AUTH_CONFIG,
  AdminAuthModule,
  BUS_CONFIG,
  CLIENT_REGISTRY_CONFIG,
  DATABASE_CONFIG,
  EventStoreModule,
  REGISTRATION_POLICY_CONFIG,
  SECRET_HASHING_CONFIG,
  ServiceConfigModule,
  storeHealthController,
} from '#lib/service-runtime';
import { AuthenticateClientHandler } from './authenticate-client/authenticate-client.handler.js';
import { AuthenticateClientNatsController } from './authenticate-client/authenticate-client.nats.controller.js';
import { RegisterClientHandler } from './register-client/register-client.handler.js';
import { RegisterClientNatsController } from './register-client/register-client.nats.controller.js';
import { ClientStreamHistoryHandler } from './client-history/client-stream-history.handler.js';
import { ClientRepository } from './client-store/client.repository.js';
import { RegisterDynamicClientHandler } from './dynamic-registration/register-dynamic-client.handler.js';
import { InitialAccessTokenHandler } from './initial-access-token/initial-access-token.handler.js';
import { ClientsProjectionService } from './list-clients/clients-projection.service.js';
import { ManageClientHandler } from './manage-client/manage-client.handler.js';
import { ManageClientNatsController } from './manage-client/manage-client.nats.controller.js';
import { RotateClientSecretHandler } from './rotate-client-secret/rotate-client-secret.handler.js';
import { RotateClientSecretNatsController } from './rotate-client-secret/rotate-client-secret.nats.controller.js';
import { SectorIdentifierFetcher } from './sector-identifier/sector-identifier.fetcher.js';

@Module({
  imports: [
    ServiceConfigModule.forService([
      DATABASE_CONFIG,
      BUS_CONFIG,
      ADMIN_AUTH_CONFIG,
      SECRET_HASHING_CONFIG,
      CLIENT_REGISTRY_CONFIG,
      REGISTRATION_POLICY_CONFIG,
    ]),
    EventStoreModule.forService('client-registry'),
    AdminAuthModule.forService('client-registry'),
  ],
  controllers: [
    RegisterClientNatsController,
    AuthenticateClientNatsController,
    RotateClientSecretNatsController,
    ManageClientNatsController,
    storeHealthController(Subjects.client.health, 'client-registry'),
  ],
  providers: [
    RegisterClientHandler,
    AuthenticateClientHandler,
    RotateClientSecretHandler,
    ClientRepository,
    ManageClientHandler,
    RegisterDynamicClientHandler,
    ClientStreamHistoryHandler,
    InitialAccessTokenHandler,
    ClientsProjectionService,
    SectorIdentifierFetcher,
  ],
})
export class ClientRegistryModule {}
