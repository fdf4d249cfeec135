import { Module } from '@nestjs/common';
import { ClientProxy, ClientsModule, Transport } from '@nestjs/microservices';
import { type Config, loadConfig } from '#lib/config';
import { ClientDirectory } from '#lib/domain-client';
import type { EventStore } from '#lib/event-store';
import {
  AdminAuthModule,
  CONFIG,
  EVENT_STORE,
  EventStoreModule,
  natsConnectionOptions,
  RpcClient,
} from '#lib/service-runtime';
import { KeyringVerifier } from '#lib/signing-keys';
import { ClientAsOfHandler } from './client-as-of/client-as-of.handler.js';
import { ClientHistoryHandler } from './client-history/client-history.handler.js';
import { GrantAsOfHandler } from './grant-as-of/grant-as-of.handler.js';
import { GrantHistoryHandler } from './grant-history/grant-history.handler.js';
import { IntrospectTokenHandler } from './introspect-token/introspect-token.handler.js';
import { IntrospectionNatsController } from './introspection.nats.controller.js';
import { CLIENT_DIRECTORY, KEYRING_VERIFIER, SERVICE_RPC, SERVICES_PROXY } from './introspection.tokens.js';
import { RevokeTokenHandler } from './revoke-token/revoke-token.handler.js';
import { TokenAsOfHandler } from './token-as-of/token-as-of.handler.js';
import { TokenHistoryHandler } from './token-history/token-history.handler.js';
import { TokenStateService } from './token-state/token-state.service.js';
import { UserHistoryHandler } from './user-history/user-history.handler.js';

const config = loadConfig();

@Module({
  imports: [
    EventStoreModule.forService('introspection'),
    AdminAuthModule.forService('introspection'),
    ClientsModule.register([
      {
        name: SERVICES_PROXY,
        transport: Transport.NATS,
        options: natsConnectionOptions(config, 'introspection'),
      },
    ]),
  ],
  controllers: [IntrospectionNatsController],
  providers: [
    {
      provide: SERVICE_RPC,
      inject: [SERVICES_PROXY, CONFIG],
      useFactory: (proxy: ClientProxy, c: Config) => new RpcClient(proxy, c.rpcTimeoutMs),
    },
    {
      provide: KEYRING_VERIFIER,
      inject: [EVENT_STORE, CONFIG],
      useFactory: (store: EventStore, c: Config) =>
        new KeyringVerifier(store, c.issuer, 1000, c.keyringRefreshSeconds * 1000),
    },
    {
      provide: CLIENT_DIRECTORY,
      inject: [EVENT_STORE, CONFIG],
      useFactory: (store: EventStore, c: Config) =>
        new ClientDirectory(store, {
          secretHashKeys: c.secretHashKeys,
          throttle: { maxFailures: c.clientAuthMaxFailures, windowSeconds: c.clientAuthFailureWindowSeconds },
        }),
    },
    TokenStateService,
    IntrospectTokenHandler,
    RevokeTokenHandler,
    TokenHistoryHandler,
    TokenAsOfHandler,
    ClientHistoryHandler,
    ClientAsOfHandler,
    GrantHistoryHandler,
    GrantAsOfHandler,
    UserHistoryHandler,
  ],
})
export class IntrospectionModule {}
