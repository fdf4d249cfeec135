import { Module } from '@nestjs/common';
import type {
  AdminAuthConfig,
  PairwiseSubjectConfig,
  SecretHashingConfig,
  SigningKeyConfig,
} from '#lib/config';
import {
  authorizationCodeGrant,
  clientCredentialsGrant,
  type GrantHandler,
  GrantRegistry,
  refreshTokenGrant,
} from '#lib/domain-token';
import {
  ADMIN_AUTH_CONFIG,
  AdminAuthModule,
  AUTHORIZATION_CODE_CONFIG,
  BUS_CONFIG,
  CLIENT_AUTHENTICATION_CONFIG,
  clientDirectoryProvider,
  clockProvider,
  DATABASE_CONFIG,
  EventStoreModule,
  KEYRING_VERIFIER_CONFIG,
  keyringVerifierProvider,
  natsProxyModule,
  SECRET_HASHING_CONFIG,
  ServiceConfigModule,
  serviceRpcProvider,
  PAIRWISE_SUBJECT_CONFIG,
  TOKENS_CONFIG,
} from '#lib/service-runtime';
import { GrantCommandsNatsController } from './grant-commands/grant-commands.nats.controller.js';
import { IssueTokenHandler } from './issue-token/issue-token.handler.js';
import { LogoutTokenHandler } from './logout-token/logout-token.handler.js';
import { LogoutTokenNatsController } from './logout-token/logout-token.nats.controller.js';
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

@Module({
  imports: [
    ServiceConfigModule.forService([
      DATABASE_CONFIG,
      BUS_CONFIG,
      ADMIN_AUTH_CONFIG,
      SECRET_HASHING_CONFIG,
      TOKENS_CONFIG,
      PAIRWISE_SUBJECT_CONFIG,
      KEYRING_VERIFIER_CONFIG,
      AUTHORIZATION_CODE_CONFIG,
      CLIENT_AUTHENTICATION_CONFIG,
    ]),
    EventStoreModule.forService('token'),
    AdminAuthModule.forService('token'),
    natsProxyModule(SERVICES_PROXY, 'token'),
  ],
  controllers: [
    IssueTokenNatsController,
    SigningKeysNatsController,
    GrantCommandsNatsController,
    RevokeTokenNatsController,
    LogoutTokenNatsController,
  ],
  providers: [
    {
      provide: GRANT_HANDLERS,
      inject: [TOKENS_CONFIG, ADMIN_AUTH_CONFIG, SECRET_HASHING_CONFIG, PAIRWISE_SUBJECT_CONFIG],
      useFactory: (
        c: SigningKeyConfig,
        admin: AdminAuthConfig,
        hashing: SecretHashingConfig,
        pairwise: PairwiseSubjectConfig,
      ): GrantHandler[] => {
        const common = {
          accessTokenTtlSeconds: c.accessTokenTtlSeconds,
          accessTokenMaxTtlSeconds: c.accessTokenMaxTtlSeconds,
          issuer: c.issuer,
          adminAudience: admin.adminAudience,
          idTokenTtlSeconds: c.idTokenTtlSeconds,
          pairwiseSubjectKey: () => pairwise.pairwiseSubjectKey,
          refreshTokenIdleTtlSeconds: c.refreshTokenIdleTtlSeconds,
          refreshTokenAbsoluteTtlSeconds: c.refreshTokenAbsoluteTtlSeconds,
          refreshTokenMaxTtlSeconds: c.refreshTokenMaxTtlSeconds,
          refreshTokenMaxRotations: c.refreshTokenMaxRotations,
          secretHashKeys: hashing.secretHashKeys,
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
    serviceRpcProvider(SERVICE_RPC, SERVICES_PROXY),
    clientDirectoryProvider(CLIENT_DIRECTORY),
    keyringVerifierProvider(KEYRING_VERIFIER),
    clockProvider,
    KeyringService,
    LogoutTokenHandler,
    IssueTokenHandler,
    RevokeTokenHandler,
  ],
})
export class TokenModule {}
