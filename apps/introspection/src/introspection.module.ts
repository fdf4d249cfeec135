import { Module } from '@nestjs/common';
import { ClientProxy, ClientsModule, Transport } from '@nestjs/microservices';
import { type Config, loadConfig } from '#lib/config';
import { ClientDirectory } from '#lib/domain-client';
import type { EventStore } from '#lib/event-store';
import { Subjects } from '#lib/contracts';
import {
  CONFIG,
  EVENT_STORE,
  EventStoreModule,
  natsConnectionOptions,
  RpcClient,
  storeHealthController,
} from '#lib/service-runtime';
import { KeyringVerifier } from '#lib/signing-keys';
import { AuditModule } from './audit/audit.module.js';
import { IntrospectTokenHandler } from './introspect-token/introspect-token.handler.js';
import { IntrospectionNatsController } from './introspection.nats.controller.js';
import { CLIENT_DIRECTORY, KEYRING_VERIFIER, SERVICE_RPC, SERVICES_PROXY } from './introspection.tokens.js';
import { RevokeTokenHandler } from './revoke-token/revoke-token.handler.js';
import { TokenStateService } from './token-state/token-state.service.js';
import { UserInfoHandler } from './userinfo/userinfo.handler.js';
import { UserInfoNatsController } from './userinfo/userinfo.nats.controller.js';

const config = loadConfig();

/**
 * The introspection process: RFC 7662 introspection, RFC 7009 revocation (forwarded to the token
 * service), the `token_state` projection, UserInfo (OpenID Connect Core §5.3), and the audit read
 * side (AuditModule).
 */
@Module({
  imports: [
    EventStoreModule.forService('introspection'),
    AuditModule,
    ClientsModule.register([
      {
        name: SERVICES_PROXY,
        transport: Transport.NATS,
        options: natsConnectionOptions(config, 'introspection'),
      },
    ]),
  ],
  controllers: [
    IntrospectionNatsController,
    UserInfoNatsController,
    storeHealthController(Subjects.introspection.health, 'introspection'),
  ],
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
    UserInfoHandler,
    RevokeTokenHandler,
  ],
})
export class IntrospectionModule {}
