import { Module } from '@nestjs/common';
import { Subjects } from '#lib/contracts';
import {
  ADMIN_AUTH_CONFIG,
  AUDIT_CHECKPOINT_CONFIG,
  BUS_CONFIG,
  clockProvider,
  CLIENT_AUTHENTICATION_CONFIG,
  clientDirectoryProvider,
  DATABASE_CONFIG,
  EventStoreModule,
  ISSUER_CONFIG,
  KEYRING_VERIFIER_CONFIG,
  PAIRWISE_SUBJECT_CONFIG,
  keyringVerifierProvider,
  natsProxyModule,
  SECRET_HASHING_CONFIG,
  ServiceConfigModule,
  serviceRpcProvider,
  storeHealthController,
} from '#lib/service-runtime';
import { AuditModule } from './audit/audit.module.js';
import { AuditCheckpointer } from './audit/checkpoints/audit-checkpointer.js';
import { IntrospectTokenHandler } from './introspect-token/introspect-token.handler.js';
import { Usernames } from './introspect-token/usernames.js';
import { IntrospectionNatsController } from './introspection.nats.controller.js';
import { CLIENT_DIRECTORY, KEYRING_VERIFIER, SERVICE_RPC, SERVICES_PROXY } from './introspection.tokens.js';
import { RevokeTokenHandler } from './revoke-token/revoke-token.handler.js';
import { TokenStateService } from './token-state/token-state.service.js';
import { UserInfoHandler } from './userinfo/userinfo.handler.js';
import { UserInfoNatsController } from './userinfo/userinfo.nats.controller.js';

/**
 * The introspection process: RFC 7662 introspection, RFC 7009 revocation (forwarded to the token
 * service), the `token_state` projection, UserInfo (OpenID Connect Core §5.3), and the audit read
 * side (AuditModule).
 */
@Module({
  imports: [
    ServiceConfigModule.forService([
      DATABASE_CONFIG,
      BUS_CONFIG,
      ADMIN_AUTH_CONFIG,
      ISSUER_CONFIG,
      SECRET_HASHING_CONFIG,
      KEYRING_VERIFIER_CONFIG,
      CLIENT_AUTHENTICATION_CONFIG,
      PAIRWISE_SUBJECT_CONFIG,
      AUDIT_CHECKPOINT_CONFIG,
    ]),
    EventStoreModule.forService('introspection'),
    AuditModule,
    natsProxyModule(SERVICES_PROXY, 'introspection'),
  ],
  controllers: [
    IntrospectionNatsController,
    UserInfoNatsController,
    storeHealthController(Subjects.introspection.health, 'introspection'),
  ],
  providers: [
    serviceRpcProvider(SERVICE_RPC, SERVICES_PROXY),
    keyringVerifierProvider(KEYRING_VERIFIER),
    clientDirectoryProvider(CLIENT_DIRECTORY),
    clockProvider,
    AuditCheckpointer,
    TokenStateService,
    IntrospectTokenHandler,
    Usernames,
    UserInfoHandler,
    RevokeTokenHandler,
  ],
})
export class IntrospectionModule {}
