import type { TokenEndpointAuthMethod } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import { isValidScopeToken, MAX_SCOPE_TOKEN_LENGTH, MAX_SCOPE_TOKENS } from '#lib/oauth-protocol';
import { NO_OUTBOUND_EXCEPTIONS, type OutboundAllowList, refusedUrlHost } from '#lib/outbound-guard';
import { checkJwks, checkUrl, intIn, metadataError, unique } from './metadata-checks.js';
import { checkRedirectUri, MAX_REDIRECT_URIS } from './redirect-uri.js';
import { checkOpenIdMetadata, type OpenIdClientMetadata, openIdMetadataOf } from './openid-metadata.js';

export const SUPPORTED_GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

const MAX_CONTACTS = 10;
/** RFC 9700 §4.14.2 refresh token rotation: the reuse grace window is at most 60 seconds. */
export const MAX_REFRESH_TOKEN_REUSE_GRACE_SECONDS = 60;
/** The old secret's grace period after a rotation (RFC 7592 §2.2 re-issues secrets), at most a day. */
export const MAX_SECRET_ROTATION_GRACE_SECONDS = 86400;
/** Longest client secret lifetime (CLIENT_SECRET_TTL_SECONDS), ten years. */
export const MAX_CLIENT_SECRET_TTL_SECONDS = 10 * 365 * 86400;

export type JsonWebKeySet = { keys: Record<string, unknown>[] };

/** RFC 7591 §2 client metadata, as the registry keeps it (with OpenID Connect Registration §2's). */
export interface ClientMetadata extends OpenIdClientMetadata {
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

/** The operator's settings that metadata is judged by, passed in by the caller. */
export interface ClientMetadataRules {
  /** Addresses a URL the server fetches may name although they are special-purpose (OUTBOUND_ALLOW). */
  outboundAllow: OutboundAllowList;
  /** The JSON array fetched from the client's sector_identifier_uri (Registration §5), if any. */
  sectorRedirectUris?: readonly string[];
}

export const DEFAULT_CLIENT_METADATA_RULES: ClientMetadataRules = { outboundAllow: NO_OUTBOUND_EXCEPTIONS };

/** RFC 7591 §2 metadata rules, with the defaults filled in. */
export function normalizeMetadata(
  input: ClientMetadataInput,
  rules: ClientMetadataRules = DEFAULT_CLIENT_METADATA_RULES,
): ClientMetadata {
  const m = withDefaults(input);
  checkMethodAndTypes(m);
  checkScopes(m);
  checkRedirection(m);
  checkDescriptive(m);
  checkTokenSettings(m);
  checkKeys(m, rules);
  checkOpenIdMetadata(m, rules);
  return m;
}

function withDefaults(input: ClientMetadataInput): ClientMetadata {
  const grantTypes = unique(input.grantTypes ?? []);
  return {
    clientName: input.clientName,
    tokenEndpointAuthMethod: input.tokenEndpointAuthMethod,
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
    ...openIdMetadataOf(input),
  };
}

function checkMethodAndTypes(m: ClientMetadata): void {
  const method = m.tokenEndpointAuthMethod;
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
}

function checkScopes(m: ClientMetadata): void {
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
}

function checkRedirection(m: ClientMetadata): void {
  const isPublic = m.tokenEndpointAuthMethod === 'none';
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
}

function checkDescriptive(m: ClientMetadata): void {
  if (m.clientUri !== null) checkUrl('client_uri', m.clientUri);
  if (m.logoUri !== null) checkUrl('logo_uri', m.logoUri);
  if (m.contacts.length > MAX_CONTACTS) throw metadataError(`at most ${MAX_CONTACTS} contacts`);
  for (const c of m.contacts) {
    if (typeof c !== 'string' || c.length === 0 || c.length > 200)
      throw metadataError('contacts are 1 to 200 characters');
  }
}

function checkTokenSettings(m: ClientMetadata): void {
  if (typeof m.requirePkce !== 'boolean') throw metadataError('require_pkce must be a boolean');
  // RFC 9700 §2.1.1: a public client can never opt out of PKCE.
  if (!m.requirePkce && m.tokenEndpointAuthMethod === 'none')
    throw metadataError('a public client must use PKCE');
  intIn(
    'refresh_token_reuse_grace_seconds',
    m.refreshTokenReuseGraceSeconds,
    0,
    MAX_REFRESH_TOKEN_REUSE_GRACE_SECONDS,
  );
  if (m.accessTokenTtlSeconds !== null) intIn('access_token_ttl_seconds', m.accessTokenTtlSeconds, 10, 86400);
  if (m.refreshTokenTtlSeconds !== null)
    intIn('refresh_token_ttl_seconds', m.refreshTokenTtlSeconds, 60, 365 * 86400);
}

function checkKeys(m: ClientMetadata, rules: ClientMetadataRules): void {
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
  if (m.tokenEndpointAuthMethod === 'private_key_jwt' && m.jwks === null && m.jwksUri === null)
    throw metadataError('private_key_jwt needs jwks or jwks_uri');
}

/** Only client_secret_basic and client_secret_post clients hold a secret. */
export const usesSecret = (method: TokenEndpointAuthMethod) =>
  method === 'client_secret_basic' || method === 'client_secret_post';
