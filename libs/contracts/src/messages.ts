/**
 * Payloads on the wire between processes. Field names are stable: a change is a new version of
 * the contract, not an edit.
 */

/** RFC 6749 §2.3.1 and RFC 7591 §2: how the client authenticated at the endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** Client credentials exactly as presented; the gateway parses, the client registry decides. */
export interface PresentedClientCredentials {
  method: TokenEndpointAuthMethod;
  clientId: string;
  clientSecret?: string;
}

export interface RequestContext {
  correlationId: string;
  /** Caller's address, for throttling and audit. */
  ip?: string;
}

export interface ClientView {
  clientId: string;
  clientName: string;
  status: 'active' | 'disabled';
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: string[];
  /** Scopes the client may request (RFC 6749 §3.3). */
  scope: string[];
  /** Scope granted when the request omits `scope` (checklist decision 6); empty: none. */
  defaultScope: string[];
  /** Audience of its access tokens (RFC 9068 `aud`). */
  audience: string[];
  accessTokenTtlSeconds?: number;
}

export interface RegisterClientRequest {
  context: RequestContext;
  actor: string;
  clientName: string;
  grantTypes: string[];
  scope: string[];
  defaultScope?: string[];
  audience?: string[];
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Only for operator-chosen ids (the CLI's --id); otherwise generated. */
  clientId?: string;
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

export interface RotateClientSecretRequest {
  context: RequestContext;
  actor: string;
  clientId: string;
}

export interface RotateClientSecretResponse {
  clientId: string;
  clientSecret: string;
}

export interface GetClientRequest {
  clientId: string;
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

export interface TokenHistoryRequest {
  context: RequestContext;
  jti: string;
  page?: AuditPageRequest;
}

export interface ClientHistoryRequest {
  context: RequestContext;
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
export interface AsOfRequest {
  context: RequestContext;
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
