import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { loadConfig } from '#lib/config';
import {
  EDGE_CONFIG,
  HealthHttpController,
  OAuthHttpExceptionFilter,
  rpcClientProvider,
  SERVICES_PROXY,
} from '#lib/http-edge';
import { natsConnectionOptions } from '#lib/service-runtime';
import { AdminAuditHttpController } from './admin-api/admin-audit.http.controller.js';
import { AdminClientsHttpController } from './admin-api/admin-clients.http.controller.js';
import { AdminTokensHttpController } from './admin-api/admin-tokens.http.controller.js';
import { AdminUsersHttpController } from './admin-api/admin-users.http.controller.js';

const config = loadConfig();

/**
 * The admin plane: the admin API and the audit pages, on a listener of their own (Hydra's
 * public/admin split), reached through an internal Service only. It verifies nothing itself: each
 * command carries the caller's bearer credential to the service that owns it. Its NATS user is the
 * only one besides the CLI's that may publish `<prefix>.*.admin.*`.
 */
@Module({
  imports: [
    ClientsModule.register([
      { name: SERVICES_PROXY, transport: Transport.NATS, options: natsConnectionOptions(config, 'admin') },
    ]),
  ],
  controllers: [
    AdminClientsHttpController,
    AdminUsersHttpController,
    AdminTokensHttpController,
    AdminAuditHttpController,
    HealthHttpController,
  ],
  providers: [
    { provide: EDGE_CONFIG, useValue: config },
    rpcClientProvider,
    { provide: APP_FILTER, useClass: OAuthHttpExceptionFilter },
  ],
})
export class AdminModule {}
