/**
 * NATS request/reply subjects between the gateways, the CLI and the services. Every subject starts
 * with the installation's prefix (NATS_SUBJECT_PREFIX) so that several installations can share
 * one NATS. Privileged operations live under `<prefix>.<service>.admin.*`: only the admin plane and
 * the CLI may publish there (bus-permissions.ts), and the owning service verifies the credential
 * each such command carries. Patterns are read from the environment when the module loads, since
 * Nest decorators need them at class-definition time.
 */
export function subjectsFor(prefix: string) {
  return {
    client: clientSubjects(prefix),
    consent: consentSubjects(prefix),
    token: tokenSubjects(prefix),
    introspection: introspectionSubjects(prefix),
  } as const;
}

/** The client registry's subjects (`<prefix>.client.*`). */
function clientSubjects(prefix: string) {
  const client = `${prefix}.client`;
  return {
    /** RFC 7591 §3 POST /register, with an initial access token unless registration is open. */
    registerDynamic: `${client}.register-dynamic`,
    /** RFC 7592 read, update and delete with the registration access token. */
    read: `${client}.read`,
    update: `${client}.update`,
    delete: `${client}.delete`,
    /** The origins of public clients' redirect URIs (CorsOriginsResponse): CORS at /token. */
    corsOrigins: `${client}.cors-origins`,
    /** Internal: client authentication for the token and introspection services. */
    authenticate: `${client}.authenticate`,
    health: `${client}.health`,
    admin: {
      /** The CLI's create (RegisterClientRequest, an operator-chosen id allowed). */
      register: `${client}.admin.register`,
      /** The admin API's create from an RFC 7591 metadata document. */
      create: `${client}.admin.create`,
      read: `${client}.admin.read`,
      update: `${client}.admin.update`,
      disable: `${client}.admin.disable`,
      delete: `${client}.admin.delete`,
      rotateSecret: `${client}.admin.rotate-secret`,
      history: `${client}.admin.history`,
      list: `${client}.admin.list`,
      /** Grant or take back a privileged scope (ClientPrivilegeRequest → ClientView). */
      grantScope: `${client}.admin.grant-scope`,
      revokeScope: `${client}.admin.revoke-scope`,
      createInitialAccessToken: `${client}.admin.create-initial-access-token`,
      listInitialAccessTokens: `${client}.admin.list-initial-access-tokens`,
      revokeInitialAccessToken: `${client}.admin.revoke-initial-access-token`,
    },
  } as const;
}

/** The consent service's subjects (`<prefix>.consent.*`). */
function consentSubjects(prefix: string) {
  const consent = `${prefix}.consent`;
  return {
    /** GET/POST /authorize (AuthorizeRequest → FrontChannelResult). */
    authorize: `${consent}.authorize`,
    /** The login form (LoginRequest → FrontChannelResult). */
    login: `${consent}.login`,
    /** Back from the login page to the consent page (ResumeRequest → FrontChannelResult). */
    resume: `${consent}.resume`,
    /** The consent form's Allow / Deny (ConsentDecisionRequest → FrontChannelResult). */
    decide: `${consent}.decide`,
    /** The signed-in user's consents (AccountRequest → FrontChannelResult). */
    account: `${consent}.account`,
    /** The user revokes a consent at /account (AccountRevokeRequest → FrontChannelResult). */
    accountRevoke: `${consent}.account-revoke`,
    /** The user signs a session or all out at /account (AccountEndSessionRequest → FrontChannelResult). */
    accountEndSession: `${consent}.account-end-session`,
    /** OpenID Connect RP-Initiated Logout 1.0: the end-session endpoint (LogoutRequest → FrontChannelResult). */
    logout: `${consent}.logout`,
    /** Its confirmation form posted (LogoutRequest → FrontChannelResult). */
    logoutConfirm: `${consent}.logout-confirm`,
    /** A resource owner's profile by sub (UserProfileRequest → UserProfile), for resource servers. */
    userProfile: `${consent}.user-profile`,
    health: `${consent}.health`,
    admin: {
      createUser: `${consent}.admin.create-user`,
      listUsers: `${consent}.admin.list-users`,
      getUser: `${consent}.admin.get-user`,
      disableUser: `${consent}.admin.disable-user`,
      enableUser: `${consent}.admin.enable-user`,
      eraseUser: `${consent}.admin.erase-user`,
      setPassword: `${consent}.admin.set-password`,
      listConsents: `${consent}.admin.list-consents`,
      revokeConsent: `${consent}.admin.revoke-consent`,
      listSessions: `${consent}.admin.list-sessions`,
      endSession: `${consent}.admin.end-session`,
    },
  } as const;
}

/** The token service's subjects (`<prefix>.token.*`). */
function tokenSubjects(prefix: string) {
  const token = `${prefix}.token`;
  return {
    grant: `${token}.grant`,
    jwks: `${token}.jwks`,
    /**
     * Internal, the consent service's: record an authorization code the user approved (RFC 6749
     * §4.1.2), sent as its hash (IssueAuthorizationCodeRequest → IssueAuthorizationCodeResponse).
     */
    issueAuthorizationCode: `${token}.issue-authorization-code`,
    /**
     * Internal, the consent service's: revoke a user's grants when the user is disabled, changes
     * password or withdraws a consent (RevokeUserGrantsRequest → RevokeUserGrantsResponse).
     */
    revokeGrants: `${token}.revoke-grant`,
    /**
     * Internal, the consent service's: sign a logout token for one Back-Channel Logout 1.0
     * delivery (IssueLogoutTokenRequest → IssueLogoutTokenResponse).
     */
    issueLogoutToken: `${token}.issue-logout-token`,
    /**
     * Internal, the introspection service's: RFC 7009 §2.1 revocation, decided and recorded by the
     * token service (RevokeRequest → TokenRevocationResponse); introspection answers /revoke once
     * its token_state has the position.
     */
    revoke: `${token}.revoke`,
    health: `${token}.health`,
    admin: {
      /** The signing keys with their status and dates (ListSigningKeysRequest → SigningKeyList). */
      listKeys: `${token}.admin.keys.list`,
      /** Publish (and with `now`, activate) a new signing key (RotateSigningKeyRequest → RotateSigningKeyResponse). */
      rotateKey: `${token}.admin.keys.rotate`,
      /** Retire a key, or withdraw a retired key from the JWKS (RetireSigningKeyRequest → SigningKeyView). */
      retireKey: `${token}.admin.keys.retire`,
    },
  } as const;
}

/** The introspection service's subjects, the audit read side's among them (`<prefix>.introspection.*`). */
function introspectionSubjects(prefix: string) {
  const introspection = `${prefix}.introspection`;
  return {
    introspect: `${introspection}.introspect`,
    revoke: `${introspection}.revoke`,
    /** Internal: whether this server still considers one of its access tokens live (by jti). */
    tokenStatus: `${introspection}.token-status`,
    /** OpenID Connect Core §5.3: the claims of a bearer token's user (UserInfoRequest → UserInfoResponse). */
    userinfo: `${introspection}.userinfo`,
    health: `${introspection}.health`,
    admin: {
      tokenHistory: `${introspection}.admin.token-history`,
      tokenAsOf: `${introspection}.admin.token-as-of`,
      clientHistory: `${introspection}.admin.client-history`,
      clientAsOf: `${introspection}.admin.client-as-of`,
      grantHistory: `${introspection}.admin.grant-history`,
      grantAsOf: `${introspection}.admin.grant-as-of`,
      userHistory: `${introspection}.admin.user-history`,
      sessionHistory: `${introspection}.admin.session-history`,
      sessionAsOf: `${introspection}.admin.session-as-of`,
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
