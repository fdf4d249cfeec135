import { Module } from '@nestjs/common';
import { type ClientProxy, ClientsModule, Transport } from '@nestjs/microservices';
import { type Config, loadConfig } from '#lib/config';
import { Subjects } from '#lib/contracts';
import {
  AdminAuthModule,
  CONFIG,
  clockProvider,
  EventStoreModule,
  idGeneratorProvider,
  natsConnectionOptions,
  RpcClient,
  storeHealthController,
} from '#lib/service-runtime';
import { AccountHandler } from './account/account.handler.js';
import { AccountNatsController } from './account/account.nats.controller.js';
import { AuthorizeHandler } from './authorize/authorize.handler.js';
import { AuthorizeNatsController } from './authorize/authorize.nats.controller.js';
import { ChangeUserHandler } from './change-user/change-user.handler.js';
import { ChangeUserNatsController } from './change-user/change-user.nats.controller.js';
import { ConsentDecisionHandler } from './consent-decision/consent-decision.handler.js';
import { ConsentDecisionNatsController } from './consent-decision/consent-decision.nats.controller.js';
import { SERVICE_RPC, SERVICES_PROXY } from './consent.tokens.js';
import { CreateUserHandler } from './create-user/create-user.handler.js';
import { CreateUserNatsController } from './create-user/create-user.nats.controller.js';
import { AuthorizationResponses } from './front-channel/authorization-responses.js';
import { BrowserSessions } from './front-channel/browser-sessions.js';
import { CodeIssuer } from './front-channel/code-issuer.js';
import { FrontChannelPages } from './front-channel/pages.js';
import { LoginCredentials } from './login/credentials.js';
import { LoginHandler } from './login/login.handler.js';
import { LoginNatsController } from './login/login.nats.controller.js';
import { LoginThrottleService } from './login/login-throttle.service.js';
import { LogoutHandler } from './logout/logout.handler.js';
import { LogoutNatsController } from './logout/logout.nats.controller.js';
import { RevokeConsentHandler } from './revoke-consent/revoke-consent.handler.js';
import { RevokeConsentNatsController } from './revoke-consent/revoke-consent.nats.controller.js';
import { SessionRepository } from './sessions/session-repository.js';
import { SessionsNatsController } from './sessions/sessions.nats.controller.js';
import { UserQueriesNatsController } from './user-queries/user-queries.nats.controller.js';
import { UserGrants } from './users/user-grants.js';
import { UserProjectionsService } from './users/user-projections.service.js';
import { UserRepository } from './users/user.repository.js';

const config = loadConfig();

/**
 * The consent service: resource owners and their login, consent decisions, and the authorization
 * request up to the code, which it asks the token service to issue (RFC 6749 §4.1).
 */
@Module({
  imports: [
    EventStoreModule.forService('consent'),
    AdminAuthModule.forService('consent'),
    ClientsModule.register([
      { name: SERVICES_PROXY, transport: Transport.NATS, options: natsConnectionOptions(config, 'consent') },
    ]),
  ],
  controllers: [
    storeHealthController(Subjects.consent.health, 'consent'),
    AuthorizeNatsController,
    LoginNatsController,
    ConsentDecisionNatsController,
    AccountNatsController,
    CreateUserNatsController,
    ChangeUserNatsController,
    RevokeConsentNatsController,
    UserQueriesNatsController,
    SessionsNatsController,
    LogoutNatsController,
  ],
  providers: [
    {
      provide: SERVICE_RPC,
      inject: [SERVICES_PROXY, CONFIG],
      useFactory: (proxy: ClientProxy, c: Config) => new RpcClient(proxy, c.rpcTimeoutMs),
    },
    clockProvider,
    idGeneratorProvider,
    UserProjectionsService,
    UserRepository,
    SessionRepository,
    UserGrants,
    LoginThrottleService,
    BrowserSessions,
    FrontChannelPages,
    AuthorizationResponses,
    CodeIssuer,
    AuthorizeHandler,
    LoginCredentials,
    LoginHandler,
    ConsentDecisionHandler,
    AccountHandler,
    CreateUserHandler,
    ChangeUserHandler,
    RevokeConsentHandler,
    LogoutHandler,
  ],
})
export class ConsentModule {}
