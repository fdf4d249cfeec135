import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { loadConfig } from '#lib/config';
import {
  HealthHttpController,
  OAuthHttpExceptionFilter,
  rpcClientProvider,
  SERVICES_PROXY,
} from '#lib/http-edge';
import { natsConnectionOptions } from '#lib/service-runtime';
import { AuthorizeHttpController } from './authorize/authorize.http.controller.js';
import { DiscoveryHttpController } from './discovery/discovery.http.controller.js';
import { GATEWAY_CONFIG } from './gateway.tokens.js';
import { IntrospectionHttpController } from './introspection/introspection.http.controller.js';
import { RegistrationHttpController } from './registration/registration.http.controller.js';
import { TokenHttpController } from './token/token.http.controller.js';

const config = loadConfig();

/**
 * The public listener (the issuer URL): protocol endpoints, registration, login and consent pages.
 * Its NATS user publishes only the public operations (libs/contracts bus-permissions.ts).
 */
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
