import type { Keyset } from '#lib/keysets';
import type { ClientView, PresentedClientCredentials, TokenEndpointAuthMethod } from '#lib/contracts';
import type { NewEvent, RecordedEvent } from '#lib/event-store';
import { invalidClient, OAuthError } from '#lib/oauth-errors';
import { isValidScopeToken, MAX_SCOPE_TOKEN_LENGTH, MAX_SCOPE_TOKENS } from '#lib/oauth-protocol';
import { NO_OUTBOUND_EXCEPTIONS, type OutboundAllowList, refusedUrlHost } from '#lib/outbound-guard';
import { checkRedirectUri, MAX_REDIRECT_URIS } from './redirect-uri.js';
import {
  ADMIN_SCOPE,
  checkRegistrationPolicy,
  privilegedScopesOf,
  type RegistrationOrigin,
} from './registration-policy.js';
import { secretMatches } from './secret.js';

/** One stream per client: `client-<client_id>`. */
export const clientStreamId = (clientId: string) => `client-${clientId}`;

export const SUPPORTED_GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

const MAX_URL_LENGTH = 2000;
const MAX_CONTACTS = 10;
/** Checklist decision 5: the reuse grace window is at most 60 seconds. */
export const MAX_REFRESH_TOKEN_REUSE_GRACE_SECONDS = 60;
/** Checklist REG-12, decision 15: the old secret's grace period after a rotation, at most a day. */
export const MAX_SECRET_ROTATION_GRACE_SECONDS = 86400;
/** Longest client secret lifetime (CLIENT_SECRET_TTL_SECONDS), ten years. */
export const MAX_CLIENT_SECRET_TTL_SECONDS = 10 * 365 * 86400;

export type JsonWebKeySet = { keys: Record<string, unknown>[] };

/** RFC 7591 §2 client metadata, as the registry keeps it. */
export interface ClientMetadata {
  clientName: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: string[];
  responseTypes: string[];
  redirectUris: string[];
  scope: string[];
  defaultScope: string[];
  audience: string[];
  clientUri: string | null;
  logoUri: string | null;
  contacts: string[];
  requirePkce: boolean;
  refreshTokenReuseGraceSeconds: number;
  accessTokenTtlSeconds: number | null;
  refreshTokenTtlSeconds: number | null;
  jwks: JsonWebKeySet | null;
  jwksUri: string | null;
}

/** What a command may give: the skeleton's fields are required, the rest take defaults. */
export type ClientMetadataInput = Pick<
  ClientMetadata,
  'clientName' | 'tokenEndpointAuthMethod' | 'grantTypes' | 'scope' | 'defaultScope' | 'audience'
> &
  Partial<ClientMetadata>;

// ---- events (past tense; data never holds a secret, only its hash) ----

export interface ClientRegistered {
  type: 'ClientRegistered';
  data: Partial<ClientMetadata> &
    Pick<
      ClientMetadata,
      'clientName' | 'tokenEndpointAuthMethod' | 'grantTypes' | 'scope' | 'defaultScope' | 'audience'
    > & {
      clientId: string;
      secretHash: string | null;
      /** RFC 7592 §3: hash of the registration access token, when one was issued. */
      registrationAccessTokenHash?: string | null;
      /**
       * RFC 7591 §3.2.1 client_secret_expires_at, as an instant; null: never (also for a client
       * without a secret). Absent in events written before secrets could expire: never.
       */
      secretExpiresAt?: string | null;
      registeredAt: string;
    };
}

export interface ClientUpdated {
  type: 'ClientUpdated';
  data: ClientMetadata & { clientId: string; updatedAt: string };
}

export interface ClientSecretRotated {
  type: 'ClientSecretRotated';
  data: {
    clientId: string;
    secretHash: string;
    rotatedAt: string;
    /** When the new secret expires (RFC 7591 §3.2.1); null or absent (older events): never. */
    secretExpiresAt?: string | null;
    /**
     * Until when the previous secret still authenticates (absent or null: not at all); never past
     * that secret's own expiry.
     */
    previousSecretValidUntil?: string | null;
  };
}

/** An administrator granted the client a privileged scope (the actor is in the event's metadata). */
export interface ClientPrivilegeGranted {
  type: 'ClientPrivilegeGranted';
  data: { clientId: string; scope: string; grantedAt: string };
}

/** An administrator (or the client itself, giving it up) took a privileged scope back. */
export interface ClientPrivilegeRevoked {
  type: 'ClientPrivilegeRevoked';
  data: { clientId: string; scope: string; revokedAt: string };
}

export interface ClientDisabled {
  type: 'ClientDisabled';
  data: { clientId: string; disabledAt: string };
}

export interface ClientDeleted {
  type: 'ClientDeleted';
  data: { clientId: string; deletedAt: string };
}

export type ClientEvent =
  | ClientRegistered
  | ClientUpdated
  | ClientSecretRotated
  | ClientPrivilegeGranted
  | ClientPrivilegeRevoked
  | ClientDisabled
  | ClientDeleted;

/**
 * Every client event type (a Record over the union: a type added to the union and not here does not
 * compile; the published-events contract in libs/contracts is checked against every `*_EVENT_TYPES`
 * array).
 */
const clientEventTypes: Record<ClientEvent['type'], true> = {
  ClientRegistered: true,
  ClientUpdated: true,
  ClientSecretRotated: true,
  ClientPrivilegeGranted: true,
  ClientPrivilegeRevoked: true,
  ClientDisabled: true,
  ClientDeleted: true,
};
export const CLIENT_EVENT_TYPES = Object.keys(clientEventTypes) as readonly ClientEvent['type'][];

/**
 * Schema versions of the metadata events. Version 2: `scope` never holds a privileged scope (those
 * are ClientPrivilegeGranted events). Version 1 events are upcast on read (upcastClientEvent).
 */
export const CLIENT_METADATA_SCHEMA_VERSION = 2;

// ---- commands (time and generated values come in; decide never reads a clock) ----

export type RegisterClient = ClientMetadataInput & {
  type: 'RegisterClient';
  /** An administrator's registration, or the client's own (held to the registration policy). */
  origin: RegistrationOrigin;
  clientId: string;
  secretHash: string | null;
  registrationAccessTokenHash?: string | null;
  /** Lifetime of the secret (CLIENT_SECRET_TTL_SECONDS); 0 or absent: it never expires. */
  secretTtlSeconds?: number;
  now: Date;
};

/** RFC 7592 §2.2: the new metadata replaces the old; the secret and the client_id stay. */
export type UpdateClient = ClientMetadataInput & {
  type: 'UpdateClient';
  origin: RegistrationOrigin;
  now: Date;
};

/** An administrator grants a privileged scope (listed in `privilegedScopes`). */
export interface GrantClientPrivilege {
  type: 'GrantClientPrivilege';
  scope: string;
  privilegedScopes: readonly string[];
  now: Date;
}

export interface RevokeClientPrivilege {
  type: 'RevokeClientPrivilege';
  scope: string;
  now: Date;
}

export interface RotateClientSecret {
  type: 'RotateClientSecret';
  secretHash: string;
  /** Seconds the previous secret keeps working (default 0: none). */
  graceSeconds?: number;
  /** Lifetime of the new secret (CLIENT_SECRET_TTL_SECONDS); 0 or absent: it never expires. */
  secretTtlSeconds?: number;
  now: Date;
}

export interface DisableClient {
  type: 'DisableClient';
  now: Date;
}

export interface DeleteClient {
  type: 'DeleteClient';
  now: Date;
}

export type ClientCommand =
  | RegisterClient
  | UpdateClient
  | GrantClientPrivilege
  | RevokeClientPrivilege
  | RotateClientSecret
  | DisableClient
  | DeleteClient;

// ---- state ----

export type ClientStatus = 'active' | 'disabled';

export type ClientState =
  | { status: 'unregistered' }
  | { status: 'deleted'; clientId: string }
  | (ClientMetadata & {
      status: ClientStatus;
      clientId: string;
      /** Privileged scopes an administrator granted (never in the metadata's `scope`). */
      privilegedScopes: string[];
      secretHash: string | null;
      /** RFC 7591 §3.2.1: when the current secret stops authenticating (checklist CAUTH-16); null: never. */
      secretExpiresAt: string | null;
      previousSecretHash: string | null;
      previousSecretValidUntil: string | null;
      registrationAccessTokenHash: string | null;
      registeredAt: string | null;
    });

export type KnownClientState = Extract<ClientState, { status: ClientStatus }>;

export const initialClientState = (): ClientState => ({ status: 'unregistered' });

export function isKnownClient(state: ClientState): state is KnownClientState {
  return state.status === 'active' || state.status === 'disabled';
}

export class ClientAlreadyRegistered extends OAuthError {
  constructor(clientId: string) {
    super('invalid_client_metadata', `client_id already registered: ${clientId}`);
  }
}

export class ClientNotRegistered extends OAuthError {
  constructor() {
    super('not_found', 'no such client');
  }
}

function metadataError(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

const unique = (values: readonly string[]) => [...new Set(values)];

function checkUrl(name: string, value: string): void {
  if (value.length > MAX_URL_LENGTH || !/^[\x21-\x7e]+$/.test(value))
    throw metadataError(`${name} must be a URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw metadataError(`${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw metadataError(`${name} must be http(s)`);
  if (url.username !== '' || url.password !== '') throw metadataError(`${name} must not carry userinfo`);
}

/** RFC 7517 §4: a public JWK Set; private members are refused. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function checkJwks(jwks: unknown): void {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as JsonWebKeySet).keys))
    throw metadataError('jwks must be a JWK Set');
  const keys = (jwks as JsonWebKeySet).keys;
  if (keys.length === 0 || keys.length > 10) throw metadataError('jwks must hold 1 to 10 keys');
  for (const k of keys) {
    if (typeof k !== 'object' || k === null || typeof k.kty !== 'string')
      throw metadataError('every JWK needs a kty');
    if (PRIVATE_JWK_MEMBERS.some((m) => m in k)) throw metadataError('jwks must hold public keys only');
  }
}

function intIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw metadataError(`${name} must be an integer from ${min} to ${max}`);
}

/** The operator's settings that metadata is judged by, passed in by the caller. */
export interface ClientMetadataRules {
  /** Addresses a URL the server fetches may name although they are special-purpose (OUTBOUND_ALLOW). */
  outboundAllow: OutboundAllowList;
}

export const DEFAULT_CLIENT_METADATA_RULES: ClientMetadataRules = { outboundAllow: NO_OUTBOUND_EXCEPTIONS };

/** RFC 7591 §2 metadata rules, with the defaults filled in. */
export function normalizeMetadata(
  input: ClientMetadataInput,
  rules: ClientMetadataRules = DEFAULT_CLIENT_METADATA_RULES,
): ClientMetadata {
  const method = input.tokenEndpointAuthMethod;
  const grantTypes = unique(input.grantTypes ?? []);
  const m: ClientMetadata = {
    clientName: input.clientName,
    tokenEndpointAuthMethod: method,
    grantTypes,
    // RFC 7591 §2.1: response type code goes with the authorization_code grant.
    responseTypes: unique(input.responseTypes ?? (grantTypes.includes('authorization_code') ? ['code'] : [])),
    redirectUris: unique(input.redirectUris ?? []),
    scope: unique(input.scope ?? []),
    defaultScope: unique(input.defaultScope ?? []),
    audience: unique(input.audience ?? []),
    clientUri: input.clientUri ?? null,
    logoUri: input.logoUri ?? null,
    contacts: unique(input.contacts ?? []),
    requirePkce: input.requirePkce ?? true,
    refreshTokenReuseGraceSeconds: input.refreshTokenReuseGraceSeconds ?? 0,
    accessTokenTtlSeconds: input.accessTokenTtlSeconds ?? null,
    refreshTokenTtlSeconds: input.refreshTokenTtlSeconds ?? null,
    jwks: input.jwks ?? null,
    jwksUri: input.jwksUri ?? null,
  };
  if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'].includes(method))
    throw metadataError(`token_endpoint_auth_method not supported: ${String(method)}`);
  if (typeof m.clientName !== 'string' || m.clientName.trim() === '' || m.clientName.length > 200)
    throw metadataError('client_name must be 1 to 200 characters');
  if (m.grantTypes.length === 0) throw metadataError('grant_types must not be empty');
  for (const g of m.grantTypes) {
    // OAuth 2.1 §10.1, RFC 9700 §2.4: implicit and password grants are not offered.
    if (!(SUPPORTED_GRANT_TYPES as readonly string[]).includes(g))
      throw metadataError(`grant type not supported: ${g}`);
  }
  // RFC 9700 §2.1.2: only the code response type (no implicit `token`).
  for (const r of m.responseTypes) {
    if (r !== 'code') throw metadataError(`response type not supported: ${r}`);
  }
  if (m.responseTypes.includes('code') !== m.grantTypes.includes('authorization_code'))
    throw metadataError('response_types code goes with grant_types authorization_code (RFC 7591 §2.1)');
  if (m.grantTypes.includes('refresh_token') && !m.grantTypes.includes('authorization_code'))
    throw metadataError('refresh_token is issued with authorization_code only');
  // RFC 6749 §3.3 leaves the size of a scope to the server: bounded, so that comparing a request
  // with a client's scope stays cheap (libs/oauth-protocol check-scope.ts).
  if (m.scope.length > MAX_SCOPE_TOKENS) throw metadataError(`scope: at most ${MAX_SCOPE_TOKENS} values`);
  if (m.defaultScope.length > MAX_SCOPE_TOKENS)
    throw metadataError(`default_scope: at most ${MAX_SCOPE_TOKENS} values`);
  for (const s of [...m.scope, ...m.defaultScope]) {
    if (s.length > MAX_SCOPE_TOKEN_LENGTH)
      throw metadataError(`scope: a value is longer than ${MAX_SCOPE_TOKEN_LENGTH} characters`);
    if (!isValidScopeToken(s)) throw metadataError(`invalid scope token: ${s}`);
  }
  const allowed = new Set(m.scope);
  if (m.defaultScope.some((s) => !allowed.has(s)))
    throw metadataError('default scope must be within the allowed scope');
  const isPublic = method === 'none';
  // RFC 6749 §4.4: client credentials are for confidential clients only.
  if (isPublic && m.grantTypes.includes('client_credentials')) {
    throw metadataError('a public client cannot use client_credentials');
  }
  for (const a of m.audience) {
    if (a.length === 0 || a.length > 500) throw metadataError('audience entries must be 1 to 500 characters');
  }
  if (m.redirectUris.length > MAX_REDIRECT_URIS)
    throw metadataError(`at most ${MAX_REDIRECT_URIS} redirect URIs`);
  for (const uri of m.redirectUris) checkRedirectUri(uri, { isPublic });
  if (m.grantTypes.includes('authorization_code') && m.redirectUris.length === 0)
    throw new OAuthError('invalid_redirect_uri', 'the authorization_code grant needs a redirect URI');
  if (m.clientUri !== null) checkUrl('client_uri', m.clientUri);
  if (m.logoUri !== null) checkUrl('logo_uri', m.logoUri);
  if (m.contacts.length > MAX_CONTACTS) throw metadataError(`at most ${MAX_CONTACTS} contacts`);
  for (const c of m.contacts) {
    if (typeof c !== 'string' || c.length === 0 || c.length > 200)
      throw metadataError('contacts are 1 to 200 characters');
  }
  if (typeof m.requirePkce !== 'boolean') throw metadataError('require_pkce must be a boolean');
  // Checklist decision 1: a public client can never opt out of PKCE.
  if (!m.requirePkce && isPublic) throw metadataError('a public client must use PKCE');
  intIn(
    'refresh_token_reuse_grace_seconds',
    m.refreshTokenReuseGraceSeconds,
    0,
    MAX_REFRESH_TOKEN_REUSE_GRACE_SECONDS,
  );
  if (m.accessTokenTtlSeconds !== null) intIn('access_token_ttl_seconds', m.accessTokenTtlSeconds, 10, 86400);
  if (m.refreshTokenTtlSeconds !== null)
    intIn('refresh_token_ttl_seconds', m.refreshTokenTtlSeconds, 60, 365 * 86400);
  // RFC 7591 §2: jwks and jwks_uri MUST NOT both be present.
  if (m.jwks !== null && m.jwksUri !== null) throw metadataError('jwks and jwks_uri are mutually exclusive');
  if (m.jwks !== null) checkJwks(m.jwks);
  if (m.jwksUri !== null) {
    checkUrl('jwks_uri', m.jwksUri);
    if (!m.jwksUri.startsWith('https://')) throw metadataError('jwks_uri must be https');
    // RFC 9700 §4.16: the server fetches jwks_uri, so an address literal it must not reach is
    // refused now; a host name is judged when it is resolved, at each fetch.
    const refused = refusedUrlHost(new URL(m.jwksUri), rules.outboundAllow);
    if (refused !== null)
      throw metadataError(`jwks_uri must not name a special-purpose address (${refused})`);
  }
  // RFC 7523 §2.2: private_key_jwt needs the client's public keys.
  if (method === 'private_key_jwt' && m.jwks === null && m.jwksUri === null)
    throw metadataError('private_key_jwt needs jwks or jwks_uri');
  return m;
}

/** Only client_secret_basic and client_secret_post clients hold a secret. */
export const usesSecret = (method: TokenEndpointAuthMethod) =>
  method === 'client_secret_basic' || method === 'client_secret_post';

function stamp(state: KnownClientState): string {
  return state.clientId;
}

/**
 * RFC 7591 §3.2.1: the instant a secret issued at `now` expires, or null (a lifetime of 0: never).
 * Rounded up to a whole second, so that client_secret_expires_at (seconds) names it exactly.
 */
function secretExpiry(now: Date, ttlSeconds: number | undefined): string | null {
  const ttl = ttlSeconds ?? 0;
  intIn('client secret lifetime', ttl, 0, MAX_CLIENT_SECRET_TTL_SECONDS);
  if (ttl === 0) return null;
  return new Date((Math.ceil(now.getTime() / 1000) + ttl) * 1000).toISOString();
}

/** Checklist CAUTH-16: a secret is refused from its client_secret_expires_at on. */
export function secretExpired(expiresAt: string | null, now: Date): boolean {
  return expiresAt !== null && now.getTime() >= Date.parse(expiresAt);
}

export function decideClient(
  command: ClientCommand,
  state: ClientState,
  rules: ClientMetadataRules = DEFAULT_CLIENT_METADATA_RULES,
): NewEvent[] {
  switch (command.type) {
    case 'RegisterClient': {
      if (state.status !== 'unregistered') throw new ClientAlreadyRegistered(command.clientId);
      if (!/^[\x21-\x7e]{1,128}$/.test(command.clientId))
        throw metadataError('client_id must be 1 to 128 visible ASCII characters');
      const {
        type: _t,
        clientId,
        secretHash,
        registrationAccessTokenHash,
        secretTtlSeconds,
        now,
        origin,
        ...input
      } = command;
      const metadata = normalizeMetadata(input, rules);
      if (origin.kind === 'self-service') checkRegistrationPolicy(metadata, origin.policy, null);
      if (usesSecret(metadata.tokenEndpointAuthMethod) !== (secretHash !== null))
        throw metadataError('a secret goes with a client_secret_basic or client_secret_post client only');
      const secretExpiresAt = secretExpiry(now, secretTtlSeconds);
      const { plain, privileged } = splitScope(metadata.scope, privilegedScopesOf(origin));
      const event: ClientRegistered = {
        type: 'ClientRegistered',
        data: {
          clientId,
          ...metadata,
          scope: plain,
          secretHash,
          registrationAccessTokenHash: registrationAccessTokenHash ?? null,
          secretExpiresAt: secretHash === null ? null : secretExpiresAt,
          registeredAt: now.toISOString(),
        },
      };
      return [
        { ...event, schemaVersion: CLIENT_METADATA_SCHEMA_VERSION },
        ...privileged.map((scope) => privilegeGranted(clientId, scope, now)),
      ];
    }
    case 'UpdateClient': {
      if (!isKnownClient(state)) throw new ClientNotRegistered();
      const { type: _t, now, origin, ...input } = command;
      const metadata = normalizeMetadata(input, rules);
      if (origin.kind === 'self-service') checkRegistrationPolicy(metadata, origin.policy, state);
      // The secret stays: an update may not move a client into or out of secret-based methods.
      if (usesSecret(metadata.tokenEndpointAuthMethod) !== usesSecret(state.tokenEndpointAuthMethod))
        throw metadataError('token_endpoint_auth_method cannot change between secret and non-secret methods');
      const { plain, privileged } = splitScope(metadata.scope, privilegedScopesOf(origin));
      const event: ClientUpdated = {
        type: 'ClientUpdated',
        data: { clientId: stamp(state), ...metadata, scope: plain, updatedAt: now.toISOString() },
      };
      // RFC 7592 §2.2: the document replaces the registration, so a privileged scope it leaves out
      // is given up; one it adds is granted (an administrator's update only, checked above).
      const kept = new Set(privileged);
      const held = new Set(state.privilegedScopes);
      return [
        { ...event, schemaVersion: CLIENT_METADATA_SCHEMA_VERSION },
        ...privileged.filter((s) => !held.has(s)).map((s) => privilegeGranted(state.clientId, s, now)),
        ...state.privilegedScopes
          .filter((s) => !kept.has(s))
          .map((s) => privilegeRevoked(state.clientId, s, now)),
      ];
    }
    case 'GrantClientPrivilege': {
      if (!isKnownClient(state)) throw new ClientNotRegistered();
      if (!command.privilegedScopes.includes(command.scope))
        throw new OAuthError(
          'invalid_request',
          `${command.scope} is not a privileged scope (PRIVILEGED_SCOPES)`,
        );
      if (state.privilegedScopes.includes(command.scope)) return [];
      return [privilegeGranted(state.clientId, command.scope, command.now)];
    }
    case 'RevokeClientPrivilege': {
      if (!isKnownClient(state)) throw new ClientNotRegistered();
      if (!state.privilegedScopes.includes(command.scope)) return [];
      return [privilegeRevoked(state.clientId, command.scope, command.now)];
    }
    case 'RotateClientSecret': {
      if (!isKnownClient(state)) throw new ClientNotRegistered();
      if (!usesSecret(state.tokenEndpointAuthMethod)) throw metadataError('this client has no secret');
      const grace = command.graceSeconds ?? 0;
      intIn('grace period', grace, 0, MAX_SECRET_ROTATION_GRACE_SECONDS);
      const now = command.now.getTime();
      // Checklist CAUTH-16: the grace period does not outlive the previous secret's own expiry.
      const previousValidUntil = Math.min(
        now + grace * 1000,
        state.secretExpiresAt === null ? Infinity : Date.parse(state.secretExpiresAt),
      );
      const event: ClientSecretRotated = {
        type: 'ClientSecretRotated',
        data: {
          clientId: state.clientId,
          secretHash: command.secretHash,
          rotatedAt: command.now.toISOString(),
          secretExpiresAt: secretExpiry(command.now, command.secretTtlSeconds),
          ...(previousValidUntil > now
            ? { previousSecretValidUntil: new Date(previousValidUntil).toISOString() }
            : {}),
        },
      };
      return [event];
    }
    case 'DisableClient': {
      if (!isKnownClient(state)) throw new ClientNotRegistered();
      if (state.status === 'disabled') return [];
      const event: ClientDisabled = {
        type: 'ClientDisabled',
        data: { clientId: state.clientId, disabledAt: command.now.toISOString() },
      };
      return [event];
    }
    case 'DeleteClient': {
      if (!isKnownClient(state)) throw new ClientNotRegistered();
      const event: ClientDeleted = {
        type: 'ClientDeleted',
        data: { clientId: state.clientId, deletedAt: command.now.toISOString() },
      };
      return [event];
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

function splitScope(scope: readonly string[], privilegedScopes: readonly string[]) {
  const privileged = new Set(privilegedScopes);
  return {
    plain: scope.filter((s) => !privileged.has(s)),
    privileged: scope.filter((s) => privileged.has(s)),
  };
}

function privilegeGranted(clientId: string, scope: string, now: Date): ClientPrivilegeGranted {
  return { type: 'ClientPrivilegeGranted', data: { clientId, scope, grantedAt: now.toISOString() } };
}

function privilegeRevoked(clientId: string, scope: string, now: Date): ClientPrivilegeRevoked {
  return { type: 'ClientPrivilegeRevoked', data: { clientId, scope, revokedAt: now.toISOString() } };
}

/**
 * Upcaster of the metadata events: before schema version 2 a client could hold `admin` in its
 * registered scope (a self-registered client could give it to itself); version 1 events read
 * without it, so only a ClientPrivilegeGranted event confers it.
 */
export function upcastClientEvent(event: RecordedEvent): ClientEvent {
  const e = event as unknown as ClientEvent;
  if ((e.type === 'ClientRegistered' || e.type === 'ClientUpdated') && event.schemaVersion < 2) {
    const without = (scopes: string[] | undefined) => scopes?.filter((s) => s !== ADMIN_SCOPE) ?? [];
    return {
      ...e,
      data: { ...e.data, scope: without(e.data.scope), defaultScope: without(e.data.defaultScope) },
    } as ClientEvent;
  }
  return e;
}

/** Events written before a field existed read with that field's default. */
function metadataFrom(data: ClientRegistered['data']): ClientMetadata {
  return {
    clientName: data.clientName,
    tokenEndpointAuthMethod: data.tokenEndpointAuthMethod,
    grantTypes: data.grantTypes,
    responseTypes: data.responseTypes ?? (data.grantTypes.includes('authorization_code') ? ['code'] : []),
    redirectUris: data.redirectUris ?? [],
    scope: data.scope,
    defaultScope: data.defaultScope,
    audience: data.audience,
    clientUri: data.clientUri ?? null,
    logoUri: data.logoUri ?? null,
    contacts: data.contacts ?? [],
    requirePkce: data.requirePkce ?? true,
    refreshTokenReuseGraceSeconds: data.refreshTokenReuseGraceSeconds ?? 0,
    accessTokenTtlSeconds: data.accessTokenTtlSeconds ?? null,
    refreshTokenTtlSeconds: data.refreshTokenTtlSeconds ?? null,
    jwks: data.jwks ?? null,
    jwksUri: data.jwksUri ?? null,
  };
}

export function evolveClient(state: ClientState, event: RecordedEvent): ClientState {
  const e = upcastClientEvent(event);
  switch (e.type) {
    case 'ClientRegistered':
      return {
        status: 'active',
        clientId: e.data.clientId,
        privilegedScopes: [],
        ...metadataFrom(e.data),
        secretHash: e.data.secretHash,
        secretExpiresAt: e.data.secretExpiresAt ?? null,
        previousSecretHash: null,
        previousSecretValidUntil: null,
        registrationAccessTokenHash: e.data.registrationAccessTokenHash ?? null,
        registeredAt: e.data.registeredAt ?? null,
      };
    case 'ClientUpdated': {
      if (!isKnownClient(state)) return state;
      const { clientId: _c, updatedAt: _u, ...metadata } = e.data;
      return { ...state, ...metadata };
    }
    case 'ClientSecretRotated': {
      if (!isKnownClient(state)) return state;
      const until = e.data.previousSecretValidUntil ?? null;
      return {
        ...state,
        secretHash: e.data.secretHash,
        secretExpiresAt: e.data.secretExpiresAt ?? null,
        previousSecretHash: until === null ? null : state.secretHash,
        previousSecretValidUntil: until,
      };
    }
    case 'ClientPrivilegeGranted':
      if (!isKnownClient(state) || state.privilegedScopes.includes(e.data.scope)) return state;
      return { ...state, privilegedScopes: [...state.privilegedScopes, e.data.scope] };
    case 'ClientPrivilegeRevoked':
      if (!isKnownClient(state)) return state;
      return { ...state, privilegedScopes: state.privilegedScopes.filter((s) => s !== e.data.scope) };
    case 'ClientDisabled':
      return isKnownClient(state) ? { ...state, status: 'disabled' } : state;
    case 'ClientDeleted':
      return isKnownClient(state) ? { status: 'deleted', clientId: state.clientId } : state;
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}

export function clientView(state: ClientState): ClientView {
  if (!isKnownClient(state)) throw new ClientNotRegistered();
  const scope = new Set([...state.scope, ...state.privilegedScopes]);
  const view: ClientView = {
    clientId: state.clientId,
    clientName: state.clientName,
    status: state.status,
    tokenEndpointAuthMethod: state.tokenEndpointAuthMethod,
    grantTypes: state.grantTypes,
    // What the client may request: its registered scope and the privileged scopes granted to it.
    scope: [...scope],
    privilegedScopes: state.privilegedScopes,
    defaultScope: state.defaultScope.filter((s) => scope.has(s)),
    audience: state.audience,
    redirectUris: state.redirectUris,
    responseTypes: state.responseTypes,
    clientUri: state.clientUri,
    logoUri: state.logoUri,
    contacts: state.contacts,
    requirePkce: state.requirePkce,
    refreshTokenReuseGraceSeconds: state.refreshTokenReuseGraceSeconds,
    jwks: state.jwks,
    jwksUri: state.jwksUri,
  };
  if (state.accessTokenTtlSeconds !== null) view.accessTokenTtlSeconds = state.accessTokenTtlSeconds;
  if (state.refreshTokenTtlSeconds !== null) view.refreshTokenTtlSeconds = state.refreshTokenTtlSeconds;
  if (state.registeredAt !== null) view.registeredAt = state.registeredAt;
  if (usesSecret(state.tokenEndpointAuthMethod)) view.secretExpiresAt = state.secretExpiresAt;
  return view;
}

/** RFC 7592 §3: the registration access token, compared as a hash in constant time. */
export function registrationAccessTokenMatches(state: ClientState, token: string, keys: Keyset): boolean {
  if (!isKnownClient(state) || state.registrationAccessTokenHash === null) {
    secretMatches(token, DUMMY_HASH, keys);
    return false;
  }
  return secretMatches(token, state.registrationAccessTokenHash, keys);
}

/**
 * Client authentication (RFC 6749 §2.3.1, §5.2): unknown client, wrong secret and the wrong
 * method all answer the same invalid_client, so the response does not tell which one it was.
 * Checklist decision 7: the registered token_endpoint_auth_method is enforced. A disabled or
 * deleted client does not authenticate, nor does a secret past its client_secret_expires_at
 * (RFC 7591 §3.2.1, checklist CAUTH-16). `now` is the instant of the request.
 */
const DUMMY_HASH = 'A'.repeat(43);

export function clientAuthenticationFailure(
  presented: PresentedClientCredentials,
  detail: string,
): OAuthError {
  const challenge =
    presented.method === 'client_secret_basic'
      ? { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' }
      : undefined;
  return invalidClient('client authentication failed', { detail, headers: challenge });
}

export function authenticateClient(
  state: ClientState,
  presented: PresentedClientCredentials,
  keys: Keyset,
  now: Date = new Date(),
): ClientView {
  const fail = (detail: string) => clientAuthenticationFailure(presented, detail);
  if (state.status !== 'active') {
    // Checklist CAUTH-20: an unknown client costs the same HMAC as a known one.
    secretMatches(presented.clientSecret ?? '', DUMMY_HASH, keys);
    throw fail(state.status === 'disabled' ? 'client disabled' : 'unknown client');
  }
  if (state.tokenEndpointAuthMethod !== presented.method) throw fail('authentication method not registered');
  if (presented.method === 'none') {
    // Checklist CAUTH-10: a public client presents no secret.
    if (presented.clientSecret !== undefined || presented.clientAssertion !== undefined)
      throw fail('public client sent a credential');
    return clientView(state);
  }
  // private_key_jwt is checked by verifyClientAssertion (async); this is the secret path only.
  if (!usesSecret(presented.method)) throw fail('not a secret method');
  if (state.secretHash === null || presented.clientSecret === undefined) throw fail('no secret');
  if (secretMatches(presented.clientSecret, state.secretHash, keys)) {
    // Checklist CAUTH-16: answered like a wrong secret.
    if (secretExpired(state.secretExpiresAt, now)) throw fail('secret expired');
    return clientView(state);
  }
  // Checklist REG-12, decision 15: the previous secret during its grace period.
  if (
    state.previousSecretHash !== null &&
    state.previousSecretValidUntil !== null &&
    now.getTime() < Date.parse(state.previousSecretValidUntil) &&
    secretMatches(presented.clientSecret, state.previousSecretHash, keys)
  )
    return clientView(state);
  throw fail('wrong secret');
}

/** The client a private_key_jwt assertion claims to be, if it may use that method at all. */
export function clientForAssertion(
  state: ClientState,
  presented: PresentedClientCredentials,
): KnownClientState {
  const fail = (detail: string) => clientAuthenticationFailure(presented, detail);
  if (state.status !== 'active') throw fail('unknown or disabled client');
  if (state.tokenEndpointAuthMethod !== 'private_key_jwt' || presented.method !== 'private_key_jwt')
    throw fail('authentication method not registered');
  return state;
}
