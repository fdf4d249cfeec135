import { Module } from '@nestjs/common';
import { ClientProxy, ClientsModule, Transport } from '@nestjs/microservices';
import { type Config, loadConfig } from '#lib/config';
import { ClientDirectory } from '#lib/domain-client';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  type GrantHandler,
  GrantRegistry,
  refreshTokenGrant,
} from '#lib/domain-token';
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
import { GrantCommandsNatsController } from './grant-commands/grant-commands.nats.controller.js';
import { IssueTokenHandler } from './issue-token/issue-token.handler.js';
import { IssueTokenNatsController } from './issue-token/issue-token.nats.controller.js';
import { RevokeTokenHandler } from './revoke-token/revoke-token.handler.js';
import { RevokeTokenNatsController } from './revoke-token/revoke-token.nats.controller.js';
import { KeyringService } from './signing-keys/keyring.service.js';
import { SigningKeysNatsController } from './signing-keys/signing-keys.nats.controller.js';
import {
  CLIENT_DIRECTORY,
  GRANT_HANDLERS,
  GRANT_REGISTRY,
  KEYRING_VERIFIER,
  SERVICE_RPC,
  SERVICES_PROXY,
} from './token.tokens.js';

const config = loadConfig();

@Module({
  imports: [
    EventStoreModule.forService('token'),
    AdminAuthModule.forService('token'),
    ClientsModule.register([
      { name: SERVICES_PROXY, transport: Transport.NATS, options: natsConnectionOptions(config, 'token') },
    ]),
  ],
  controllers: [
    IssueTokenNatsController,
    SigningKeysNatsController,
    GrantCommandsNatsController,
    RevokeTokenNatsController,
  ],
  providers: [
    {
      provide: GRANT_HANDLERS,
      inject: [CONFIG],
      useFactory: (c: Config): GrantHandler[] => {
        const common = {
          accessTokenTtlSeconds: c.accessTokenTtlSeconds,
          accessTokenMaxTtlSeconds: c.accessTokenMaxTtlSeconds,
          issuer: c.issuer,
          adminAudience: c.adminAudience,
          idTokenTtlSeconds: c.idTokenTtlSeconds,
          pairwiseSubjectKey: () => c.pairwiseSubjectKey,
          refreshTokenIdleTtlSeconds: c.refreshTokenIdleTtlSeconds,
          refreshTokenAbsoluteTtlSeconds: c.refreshTokenAbsoluteTtlSeconds,
          refreshTokenMaxTtlSeconds: c.refreshTokenMaxTtlSeconds,
          refreshTokenMaxRotations: c.refreshTokenMaxRotations,
          secretHashKeys: c.secretHashKeys,
        };
        // OAuth 2.1 §10.1: implicit and password are not registered (unsupported_grant_type).
        return [clientCredentialsGrant(common), authorizationCodeGrant(common), refreshTokenGrant(common)];
      },
    },
    {
      provide: GRANT_REGISTRY,
      inject: [GRANT_HANDLERS],
      useFactory: (h: GrantHandler[]) => new GrantRegistry(h),
    },
    {
      provide: SERVICE_RPC,
      inject: [SERVICES_PROXY, CONFIG],
      useFactory: (proxy: ClientProxy, c: Config) => new RpcClient(proxy, c.rpcTimeoutMs),
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
    {
      provide: KEYRING_VERIFIER,
      inject: [EVENT_STORE, CONFIG],
      useFactory: (store: EventStore, c: Config) =>
        new KeyringVerifier(store, c.issuer, 1000, c.keyringRefreshSeconds * 1000),
    },
    KeyringService,
    IssueTokenHandler,
    RevokeTokenHandler,
  ],
})
export class TokenModule {}
