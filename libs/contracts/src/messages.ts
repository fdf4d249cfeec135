/**
 * Payloads on the wire between processes. Field names are stable: a change is a new version of
 * the contract, not an edit.
 */

/** RFC 6749 §2.3.1 and RFC 7591 §2: how the client authenticated at the endpoint. */
export type TokenEndpointAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** Client credentials exactly as presented; the gateway parses, the client registry decides. */
export interface PresentedClientCredentials {
  method: TokenEndpointAuthMethod;
  clientId: string;
  clientSecret?: string;
  /** private_key_jwt (RFC 7523 §2.2): the signed client assertion. */
  clientAssertion?: string;
}

export interface RequestContext {
  /** Made by the server for each HTTP request (never the caller's); the key of the audit trail. */
  correlationId: string;
  /**
   * The caller's own X-Correlation-Id or X-Request-Id, when well-formed: untrusted (anyone may
   * send any value, or another request's), kept to match the caller's logs, never to join events.
   */
  callerRequestId?: string;
  /** Caller's address, for throttling and audit. */
  ip?: string;
}

/**
 * A privileged command (the admin API, the CLI): the caller's bearer credential travels with it,
 * exactly as presented, and the owning service verifies it (libs/admin-auth); the audit actor is
 * what that verification yields, never a field of the message.
 */
export interface AdminCommand {
  context: RequestContext;
  /** An access token meant for the admin API, or the bootstrap ADMIN_TOKEN. */
  credential: string;
}

export interface ClientView {
  clientId: string;
  clientName: string;
  status: 'active' | 'disabled';
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: string[];
  /** Scopes the client may request (RFC 6749 §3.3). */
  scope: string[];
  /** Scope granted when the request omits `scope` (RFC 6749 §3.3: the server's documented default); empty: none. */
  defaultScope: string[];
  /** Audience of its access tokens (RFC 9068 `aud`). */
  audience: string[];
  /** Privileged scopes an administrator granted it (also listed in `scope`). */
  privilegedScopes?: string[];
  /** RFC 7591 §2 metadata. */
  redirectUris?: string[];
  responseTypes?: string[];
  clientUri?: string | null;
  logoUri?: string | null;
  contacts?: string[];
  /** RFC 9700 §2.1.1: PKCE required (only a confidential client may turn it off). */
  requirePkce?: boolean;
  /** RFC 9700 §4.14.2: refresh-token reuse grace window in seconds (0 to 60; 0: none). */
  refreshTokenReuseGraceSeconds?: number;
  /** Per-client lifetimes; absent: the server's defaults. */
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  /** private_key_jwt keys (RFC 7591 §2): one of the two. */
  jwks?: { keys: Record<string, unknown>[] } | null;
  jwksUri?: string | null;
  registeredAt?: string;
  /**
   * RFC 7591 §3.2.1: when the client's secret expires; null: never. Present
   * only for a client with a secret (client_secret_basic or client_secret_post).
   */
  secretExpiresAt?: string | null;
  /** OpenID Connect Registration §2: the ID token's JWS alg; absent: RS256. */
  idTokenSignedResponseAlg?: 'RS256' | 'ES256' | 'EdDSA';
  /** OpenID Connect Core §8; absent: public. */
  subjectType?: 'public' | 'pairwise';
  /** Core §8.1: its host is a pairwise client's sector identifier. */
  sectorIdentifierUri?: string;
  defaultMaxAge?: number;
  requireAuthTime?: boolean;
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
}

export interface RegisterClientRequest extends AdminCommand {
  clientName: string;
  grantTypes: string[];
  scope: string[];
  defaultScope?: string[];
  audience?: string[];
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Only for operator-chosen ids (the CLI's --id); otherwise generated. */
  clientId?: string;
  redirectUris?: string[];
  jwksUri?: string;
  requirePkce?: boolean;
  /** OpenID Connect Registration §2. */
  idTokenSignedResponseAlg?: 'RS256' | 'ES256' | 'EdDSA';
  subjectType?: 'public' | 'pairwise';
  sectorIdentifierUri?: string;
  /** RP-Initiated Logout 1.0 §3.1. */
  postLogoutRedirectUris?: string[];
}

export interface RegisterClientResponse {
  client: ClientView;
  /** Shown once; only its hash is stored. */
  clientSecret?: string;
}

export interface AuthenticateClientRequest {
  context: RequestContext;
  credentials: PresentedClientCredentials;
}

export interface RotateClientSecretRequest extends AdminCommand {
  clientId: string;
  /** Seconds the old secret keeps working (a rotation's grace period; default 0). */
  graceSeconds?: number;
}

/** RFC 7592 §2: the client manages its own registration with its registration access token. */
export interface ClientManagementRequest {
  context: RequestContext;
  clientId: string;
  registrationAccessToken: string;
}

/** RFC 7592 §2.2: the whole RFC 7591 metadata document replaces the old one. */
export interface UpdateClientRequest extends ClientManagementRequest {
  document: unknown;
}

/** An administrator's operation on one client. */
export interface AdminClientRequest extends AdminCommand {
  clientId: string;
}

/** An administrator replaces a client's metadata (privileged scopes in it are granted or taken back). */
export interface AdminUpdateClientRequest extends AdminClientRequest {
  document: unknown;
}

/** An administrator grants or takes back one privileged scope. */
export interface ClientPrivilegeRequest extends AdminClientRequest {
  scope: string;
}

/** RFC 7591 §3.1 POST /register: a metadata document, held to the registration policy. */
export interface RegisterDynamicClientRequest {
  context: RequestContext;
  document: unknown;
  /** RFC 7591 §3: required unless registration is open. */
  initialAccessToken?: string;
}

/** The admin API's create: an RFC 7591 metadata document from an administrator. */
export interface AdminCreateClientRequest extends AdminCommand {
  document: unknown;
}

export interface RegisterDynamicClientResponse {
  client: ClientView;
  /** Shown once; only hashes are stored. */
  clientSecret?: string;
  registrationAccessToken: string;
}

export interface CreateInitialAccessTokenRequest extends AdminCommand {
  ttlSeconds?: number;
  /** How many registrations it may make; absent: any number until it expires. */
  maxUses?: number;
}

/** An initial access token as the admin API lists it (never the token, which is shown once). */
export interface InitialAccessTokenView {
  id: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  status: 'active' | 'expired' | 'used_up' | 'revoked';
  revokedAt?: string;
}

export interface CreateInitialAccessTokenResponse {
  /** Shown once; only its hash is stored. */
  initialAccessToken: string;
  token: InitialAccessTokenView;
}

export type ListInitialAccessTokensRequest = AdminCommand;

export interface ListInitialAccessTokensResponse {
  initialAccessTokens: InitialAccessTokenView[];
}

export interface RevokeInitialAccessTokenRequest extends AdminCommand {
  id: string;
}

export interface ListClientsRequest extends AdminCommand {
  /** Page size (1 to 100) and the opaque cursor of the previous page. */
  limit: number;
  after?: string;
}

export interface ListClientsResponse {
  clients: ClientView[];
  /** Present when there may be more: pass it as `after`. */
  next?: string;
}

export interface RotateClientSecretResponse {
  clientId: string;
  clientSecret: string;
  /** RFC 7591 §3.2.1: when the new secret expires; null: never. */
  secretExpiresAt: string | null;
}

/** Token endpoint request (RFC 6749 §4.4.2, §5): the form parameters, already de-duplicated. */
export interface TokenRequest {
  context: RequestContext;
  credentials: PresentedClientCredentials | null;
  parameters: Record<string, string>;
}

/** RFC 6749 §5.1. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  /** OpenID Connect Core §3.1.3.3: with an `openid` grant. */
  id_token?: string;
}

export interface IntrospectRequest {
  context: RequestContext;
  credentials: PresentedClientCredentials | null;
  token: string;
  tokenTypeHint?: string;
}

/** RFC 7662 §2.2. */
export type IntrospectResponse =
  | { active: false }
  | {
      active: true;
      scope?: string;
      client_id: string;
      username?: string;
      token_type: 'Bearer';
      exp: number;
      iat: number;
      nbf?: number;
      sub: string;
      aud: string | string[];
      iss: string;
      jti: string;
    };

export interface RevokeRequest {
  context: RequestContext;
  credentials: PresentedClientCredentials | null;
  token: string;
  tokenTypeHint?: string;
}

/** Paging and time bounds of an audit history (GET …/history?limit=&after=&from=&to=). */
export interface AuditPageRequest {
  /** Most events in the page (1–500). */
  limit: number;
  /** Global position of the last event of the previous page. */
  after?: number;
  /** ISO 8601 instants: only events recorded at or after / at or before. */
  from?: string;
  to?: string;
}

export interface TokenHistoryRequest extends AdminCommand {
  jti: string;
  page?: AuditPageRequest;
}

export interface ClientHistoryRequest extends AdminCommand {
  clientId: string;
  page: AuditPageRequest;
}

export interface ClientHistoryResponse {
  clientId: string;
  events: AuditEvent[];
  /** `after` for the next page; null on the last page. */
  next: number | null;
}

/** The state of a thing at an instant, by replaying its stream up to it (GET …?as_of=). */
export interface AsOfRequest extends AdminCommand {
  id: string;
  /** ISO 8601; absent: now. */
  asOf?: string;
}

export interface TokenAsOfResponse {
  jti: string;
  asOf: string;
  status: 'active' | 'revoked' | 'expired';
  clientId: string;
  sub: string;
  scope: string[];
  aud: string[];
  iat: number;
  exp: number;
  revokedAt?: string;
  /** Global position of the last event replayed. */
  position: number;
}

export interface ClientAsOfResponse {
  asOf: string;
  client: ClientView;
  position: number;
}

/** One event as the audit API shows it. */
export interface AuditEvent {
  position: number;
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  recordedAt: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

export interface TokenHistoryResponse {
  jti: string;
  events: AuditEvent[];
  /** `after` for the next page; null on the last page. */
  next: number | null;
}

export interface HealthResponse {
  service: string;
  status: 'ok';
}

/** Internal to the system (the admin guard): the life of an access token this server issued. */
export interface TokenStatusRequest {
  jti: string;
}

export interface TokenStatusResponse {
  status: 'active' | 'revoked' | 'unknown';
}
