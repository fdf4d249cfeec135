/**
 * NATS request/reply subjects between the gateway, the CLI and the services. Every subject starts
 * with the installation's prefix (NATS_SUBJECT_PREFIX) so that several installations can share
 * one NATS. Patterns are read from the environment when the module loads, since Nest decorators
 * need them at class-definition time.
 */
export function subjectsFor(prefix: string) {
  return {
    client: {
      register: `${prefix}.client.register`,
      authenticate: `${prefix}.client.authenticate`,
      rotateSecret: `${prefix}.client.rotate-secret`,
      get: `${prefix}.client.get`,
      registerDynamic: `${prefix}.client.register-dynamic`,
      read: `${prefix}.client.read`,
      update: `${prefix}.client.update`,
      disable: `${prefix}.client.disable`,
      delete: `${prefix}.client.delete`,
      history: `${prefix}.client.history`,
      list: `${prefix}.client.list`,
      createInitialAccessToken: `${prefix}.client.create-initial-access-token`,
      /** The origins of public clients' redirect URIs (CorsOriginsResponse): CORS at /token (TREQ-15). */
      corsOrigins: `${prefix}.client.cors-origins`,
      health: `${prefix}.client.health`,
    },
    consent: {
      /** A resource owner's profile by sub (UserProfileRequest → UserProfile), for resource servers. */
      userProfile: `${prefix}.consent.user-profile`,
      /** GET/POST /authorize (AuthorizeRequest → FrontChannelResult). */
      authorize: `${prefix}.consent.authorize`,
      /** The login form (LoginRequest → FrontChannelResult). */
      login: `${prefix}.consent.login`,
      /** Back from the login page to the consent page (ResumeRequest → FrontChannelResult). */
      resume: `${prefix}.consent.resume`,
      /** The consent form's Allow / Deny (ConsentDecisionRequest → FrontChannelResult). */
      decide: `${prefix}.consent.decide`,
      /** The signed-in user's consents (AccountRequest → FrontChannelResult). */
      account: `${prefix}.consent.account`,
      /** The user revokes a consent at /account (AccountRevokeRequest → FrontChannelResult). */
      accountRevoke: `${prefix}.consent.account-revoke`,
      createUser: `${prefix}.consent.create-user`,
      listUsers: `${prefix}.consent.list-users`,
      getUser: `${prefix}.consent.get-user`,
      disableUser: `${prefix}.consent.disable-user`,
      enableUser: `${prefix}.consent.enable-user`,
      setPassword: `${prefix}.consent.set-password`,
      listConsents: `${prefix}.consent.list-consents`,
      revokeConsent: `${prefix}.consent.revoke-consent`,
      health: `${prefix}.consent.health`,
    },
    token: {
      grant: `${prefix}.token.grant`,
      jwks: `${prefix}.token.jwks`,
      health: `${prefix}.token.health`,
    },
    introspection: {
      introspect: `${prefix}.introspection.introspect`,
      /** Internal: whether this server still considers one of its access tokens live (by jti). */
      tokenStatus: `${prefix}.introspection.token-status`,
      revoke: `${prefix}.introspection.revoke`,
      tokenHistory: `${prefix}.introspection.token-history`,
      tokenAsOf: `${prefix}.introspection.token-as-of`,
      clientHistory: `${prefix}.introspection.client-history`,
      clientAsOf: `${prefix}.introspection.client-as-of`,
      health: `${prefix}.introspection.health`,
    },
  } as const;
}

export type Subjects = ReturnType<typeof subjectsFor>;

export const Subjects: Subjects = subjectsFor(process.env.NATS_SUBJECT_PREFIX || 'authz');

/** Queue group per service: replicas of one service share the requests. */
export const QueueGroups = {
  clientRegistry: 'client-registry',
  consent: 'consent',
  token: 'token',
  introspection: 'introspection',
} as const;
