import type { ClientView, TokenEndpointAuthMethod } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import type { ClientMetadataInput, JsonWebKeySet } from './client-metadata.js';
import { openIdMetadataDocument, parseOpenIdMetadata } from './openid-metadata.js';

/**
 * RFC 7591 §2 client metadata documents (JSON, snake_case) to and from the registry's model.
 * Unknown members are ignored (RFC 7591 §2: "the authorization server MUST ignore any client
 * metadata sent by the client that it does not understand"); a `client_id` proposed by the client
 * is one of them (RFC 7591 §3.2.1: the server issues the client_id).
 */
function bad(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

function stringOf(doc: Record<string, unknown>, name: string): string | undefined {
  const v = doc[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${name} must be a string`);
  return v;
}

function stringsOf(doc: Record<string, unknown>, name: string, max = 100): string[] | undefined {
  const v = doc[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw bad(`${name} must be an array of strings`);
  if (v.length > max) throw bad(`${name} has too many entries`);
  return v as string[];
}

function intOf(doc: Record<string, unknown>, name: string): number | undefined {
  const v = doc[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${name} must be an integer`);
  return v;
}

function scopeOf(doc: Record<string, unknown>, name: string): string[] | undefined {
  const s = stringOf(doc, name);
  // RFC 7591 §2: scope is a space-separated list (RFC 6749 §3.3).
  return s === undefined ? undefined : s.split(' ').filter((t) => t !== '');
}

export function parseClientMetadataDocument(doc: unknown): ClientMetadataInput {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw bad('the body must be a JSON object');
  const d = doc as Record<string, unknown>;
  const method = (stringOf(d, 'token_endpoint_auth_method') ??
    'client_secret_basic') as TokenEndpointAuthMethod;
  const redirectUris = d.redirect_uris;
  if (
    redirectUris !== undefined &&
    (!Array.isArray(redirectUris) || redirectUris.some((x) => typeof x !== 'string'))
  )
    throw new OAuthError('invalid_redirect_uri', 'redirect_uris must be an array of strings');
  const requirePkce = d.require_pkce;
  if (requirePkce !== undefined && typeof requirePkce !== 'boolean')
    throw bad('require_pkce must be a boolean');
  const jwks = d.jwks;
  if (jwks !== undefined && (typeof jwks !== 'object' || jwks === null)) throw bad('jwks must be a JWK Set');
  const grantTypes = stringsOf(d, 'grant_types') ?? ['authorization_code'];
  const input: ClientMetadataInput = {
    ...parseOpenIdMetadata(d),
    clientName: stringOf(d, 'client_name') ?? '',
    tokenEndpointAuthMethod: method,
    // RFC 7591 §2: grant_types defaults to authorization_code.
    grantTypes,
    scope: scopeOf(d, 'scope') ?? [],
    defaultScope: scopeOf(d, 'default_scope') ?? [],
    audience: stringsOf(d, 'audience', 20) ?? [],
  };
  const responseTypes = stringsOf(d, 'response_types');
  if (responseTypes !== undefined) input.responseTypes = responseTypes;
  if (redirectUris !== undefined) {
    if ((redirectUris as string[]).length > 100) throw bad('redirect_uris has too many entries');
    input.redirectUris = redirectUris as string[];
  }
  const clientUri = stringOf(d, 'client_uri');
  if (clientUri !== undefined) input.clientUri = clientUri;
  const logoUri = stringOf(d, 'logo_uri');
  if (logoUri !== undefined) input.logoUri = logoUri;
  const contacts = stringsOf(d, 'contacts');
  if (contacts !== undefined) input.contacts = contacts;
  if (requirePkce !== undefined) input.requirePkce = requirePkce as boolean;
  const grace = intOf(d, 'refresh_token_reuse_grace_seconds');
  if (grace !== undefined) input.refreshTokenReuseGraceSeconds = grace;
  const at = intOf(d, 'access_token_ttl_seconds');
  if (at !== undefined) input.accessTokenTtlSeconds = at;
  const rt = intOf(d, 'refresh_token_ttl_seconds');
  if (rt !== undefined) input.refreshTokenTtlSeconds = rt;
  if (jwks !== undefined) input.jwks = jwks as JsonWebKeySet;
  const jwksUri = stringOf(d, 'jwks_uri');
  if (jwksUri !== undefined) input.jwksUri = jwksUri;
  return input;
}

/** RFC 7591 §3.2.1 / RFC 7592 §3: the client information response (never the secret hash). */
export function clientMetadataDocument(view: ClientView): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    client_id: view.clientId,
    client_name: view.clientName,
    token_endpoint_auth_method: view.tokenEndpointAuthMethod,
    grant_types: view.grantTypes,
    response_types: view.responseTypes ?? [],
    redirect_uris: view.redirectUris ?? [],
    scope: view.scope.join(' '),
    default_scope: view.defaultScope.join(' '),
    audience: view.audience,
    contacts: view.contacts ?? [],
    require_pkce: view.requirePkce ?? true,
    refresh_token_reuse_grace_seconds: view.refreshTokenReuseGraceSeconds ?? 0,
    status: view.status,
    ...openIdMetadataDocument(view),
  };
  if (view.clientUri) doc.client_uri = view.clientUri;
  if (view.logoUri) doc.logo_uri = view.logoUri;
  if (view.jwks) doc.jwks = view.jwks;
  if (view.jwksUri) doc.jwks_uri = view.jwksUri;
  if (view.accessTokenTtlSeconds !== undefined) doc.access_token_ttl_seconds = view.accessTokenTtlSeconds;
  if (view.refreshTokenTtlSeconds !== undefined) doc.refresh_token_ttl_seconds = view.refreshTokenTtlSeconds;
  if (view.registeredAt !== undefined)
    doc.client_id_issued_at = Math.floor(Date.parse(view.registeredAt) / 1000);
  if (view.secretExpiresAt !== undefined)
    doc.client_secret_expires_at = clientSecretExpiresAt(view.secretExpiresAt);
  return doc;
}

/** RFC 7591 §3.2.1 client_secret_expires_at: seconds since the epoch, or 0 if it will not expire. */
export function clientSecretExpiresAt(expiresAt: string | null): number {
  return expiresAt === null ? 0 : Math.ceil(Date.parse(expiresAt) / 1000);
}
