import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { loadConfig } from '#lib/config';
import { natsConnectionOptions } from '#lib/service-runtime';
import { AdminClientsHttpController } from './admin/admin-clients.http.controller.js';
import { AdminHttpController } from './admin/admin.http.controller.js';
import { AdminUsersHttpController } from './admin/admin-users.http.controller.js';
import { AuthorizeHttpController } from './authorize/authorize.http.controller.js';
import { DiscoveryHttpController } from './discovery/discovery.http.controller.js';
import { GATEWAY_CONFIG, SERVICES_PROXY } from './gateway.tokens.js';
import { HealthHttpController } from './health/health.http.controller.js';
import { OAuthHttpExceptionFilter } from './http/oauth-http.filter.js';
import { IntrospectionHttpController } from './introspection/introspection.http.controller.js';
import { RegistrationHttpController } from './registration/registration.http.controller.js';
import { rpcClientProvider } from './rpc.provider.js';
import { TokenHttpController } from './token/token.http.controller.js';

const config = loadConfig();

@Module({
  imports: [
    ClientsModule.register([
      { name: SERVICES_PROXY, transport: Transport.NATS, options: natsConnectionOptions(config, 'gateway') },
    ]),
  ],
  controllers: [
    TokenHttpController,
    IntrospectionHttpController,
    DiscoveryHttpController,
    AdminHttpController,
    AdminClientsHttpController,
    AdminUsersHttpController,
    AuthorizeHttpController,
    RegistrationHttpController,
    HealthHttpController,
  ],
  providers: [
    { provide: GATEWAY_CONFIG, useValue: config },
    rpcClientProvider,
    { provide: APP_FILTER, useClass: OAuthHttpExceptionFilter },
  ],
})
export class GatewayModule {}
