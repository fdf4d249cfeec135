import { Module } from '@nestjs/common';
import { EventStoreModule } from '#lib/service-runtime';
import { AuthenticateClientHandler } from './authenticate-client/authenticate-client.handler.js';
import { AuthenticateClientNatsController } from './authenticate-client/authenticate-client.nats.controller.js';
import { GetClientNatsController } from './get-client/get-client.nats.controller.js';
import { RegisterClientHandler } from './register-client/register-client.handler.js';
import { RegisterClientNatsController } from './register-client/register-client.nats.controller.js';
import { RotateClientSecretHandler } from './rotate-client-secret/rotate-client-secret.handler.js';
import { RotateClientSecretNatsController } from './rotate-client-secret/rotate-client-secret.nats.controller.js';

@Module({
  imports: [EventStoreModule.forService('client-registry')],
  controllers: [
    RegisterClientNatsController,
    AuthenticateClientNatsController,
    RotateClientSecretNatsController,
    GetClientNatsController,
  ],
  providers: [RegisterClientHandler, AuthenticateClientHandler, RotateClientSecretHandler],
})
export class ClientRegistryModule {}
