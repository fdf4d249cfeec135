import { Module } from '@nestjs/common';
import { Subjects } from '#lib/contracts';
import type { IssuerConfig } from '#lib/config';
import type { EventStore } from '#lib/event-store';
import { SESSION_PERSONAL_FIELDS } from '#lib/domain-consent';
import { USER_PERSONAL_FIELDS } from '#lib/domain-user';
import { mergePersonalFields } from '#lib/personal-data';
import { IdTokenHintVerifier } from '#lib/signing-keys';
import {
  ADMIN_AUTH_CONFIG,
  AdminAuthModule,
  BACKCHANNEL_LOGOUT_CONFIG,
  BUS_CONFIG,
  clientViewsProvider,
  clockProvider,
  CONSENT_CONFIG,
  COOKIE_KEYS_CONFIG,
  DATABASE_CONFIG,
  EVENT_STORE,
  EventStoreModule,
  idGeneratorProvider,
  ISSUER_CONFIG,
  natsProxyModule,
  PERSONAL_DATA_CONFIG,
  SECRET_HASHING_CONFIG,
  ServiceConfigModule,
  serviceRpcProvider,
  storeHealthController,
} from '#lib/service-runtime';
import { AccountHandler } from './account/account.handler.js';
import { AccountNatsController } from './account/account.nats.controller.js';
import { LogoutNotificationsService } from './backchannel-logout/logout-notifications.service.js';
import { SendLogoutNotificationHandler } from './backchannel-logout/send-logout-notification.handler.js';
import { AuthorizeHandler } from './authorize/authorize.handler.js';
import { AuthorizeNatsController } from './authorize/authorize.nats.controller.js';
import { ChangeUserHandler } from './change-user/change-user.handler.js';
import { ChangeUserNatsController } from './change-user/change-user.nats.controller.js';
import { ConsentDecisionHandler } from './consent-decision/consent-decision.handler.js';
import { ConsentDecisionNatsController } from './consent-decision/consent-decision.nats.controller.js';
import { CLIENT_VIEWS, ID_TOKEN_HINTS, SERVICE_RPC, SERVICES_PROXY } from './consent.tokens.js';
import { CreateUserHandler } from './create-user/create-user.handler.js';
import { CreateUserNatsController } from './create-user/create-user.nats.controller.js';
import { EraseUserHandler } from './erase-user/erase-user.handler.js';
import { EraseUserNatsController } from './erase-user/erase-user.nats.controller.js';
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

/**
 * The consent service: resource owners and their login, consent decisions, and the authorization
 * request up to the code, which it asks the token service to issue (RFC 6749 §4.1).
 */
@Module({
  imports: [
    ServiceConfigModule.forService([
      DATABASE_CONFIG,
      BUS_CONFIG,
      ADMIN_AUTH_CONFIG,
      ISSUER_CONFIG,
      SECRET_HASHING_CONFIG,
      COOKIE_KEYS_CONFIG,
      CONSENT_CONFIG,
      BACKCHANNEL_LOGOUT_CONFIG,
      PERSONAL_DATA_CONFIG,
    ]),
    EventStoreModule.forService('consent', {
      personalFields: mergePersonalFields(USER_PERSONAL_FIELDS, SESSION_PERSONAL_FIELDS),
    }),
    AdminAuthModule.forService('consent'),
    natsProxyModule(SERVICES_PROXY, 'consent'),
  ],
  controllers: [
    storeHealthController(Subjects.consent.health, 'consent'),
    AuthorizeNatsController,
    LoginNatsController,
    ConsentDecisionNatsController,
    AccountNatsController,
    CreateUserNatsController,
    ChangeUserNatsController,
    EraseUserNatsController,
    RevokeConsentNatsController,
    UserQueriesNatsController,
    SessionsNatsController,
    LogoutNatsController,
  ],
  providers: [
    serviceRpcProvider(SERVICE_RPC, SERVICES_PROXY),
    clientViewsProvider(CLIENT_VIEWS),
    {
      provide: ID_TOKEN_HINTS,
      inject: [EVENT_STORE, ISSUER_CONFIG],
      useFactory: (store: EventStore, c: IssuerConfig) => new IdTokenHintVerifier(store, c.issuer),
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
    EraseUserHandler,
    RevokeConsentHandler,
    LogoutHandler,
    SendLogoutNotificationHandler,
    LogoutNotificationsService,
  ],
})
export class ConsentModule {}
