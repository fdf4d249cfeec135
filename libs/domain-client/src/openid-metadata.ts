import { OAuthError } from '#lib/oauth-errors';
import { checkUrl, metadataError } from './metadata-checks.js';

/**
 * OpenID Connect Dynamic Client Registration 1.0 §2 client metadata, each absent unless registered
 * (so that a client registered without them, and its events, are as before). Logout metadata is
 * stored for the logout endpoints; `sector_identifier_uri` is not accepted yet (it must be fetched
 * and checked against every redirect URI, OpenID Connect Core §8.1).
 */
export interface OpenIdClientMetadata {
  /** The ID token's JWS alg; absent: RS256 (Registration §2). */
  idTokenSignedResponseAlg?: 'RS256' | 'ES256' | 'EdDSA';
  /** Core §8; absent: public. */
  subjectType?: 'public' | 'pairwise';
  /** Core §3.1.2.1 max_age applied when the request names none; seconds. */
  defaultMaxAge?: number;
  /** Whether every ID token must carry auth_time (this server always includes it). */
  requireAuthTime?: boolean;
  /** RP-Initiated Logout 1.0 §3.1. */
  postLogoutRedirectUris?: string[];
  /** Back-Channel Logout 1.0 §2.2. */
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
}

const FIELDS = [
  'idTokenSignedResponseAlg',
  'subjectType',
  'defaultMaxAge',
  'requireAuthTime',
  'postLogoutRedirectUris',
  'backchannelLogoutUri',
  'backchannelLogoutSessionRequired',
] as const satisfies readonly (keyof OpenIdClientMetadata)[];

/** The snake_case member names of RFC 7591 documents (Registration §2). */
const MEMBERS: Record<(typeof FIELDS)[number], string> = {
  idTokenSignedResponseAlg: 'id_token_signed_response_alg',
  subjectType: 'subject_type',
  defaultMaxAge: 'default_max_age',
  requireAuthTime: 'require_auth_time',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  backchannelLogoutUri: 'backchannel_logout_uri',
  backchannelLogoutSessionRequired: 'backchannel_logout_session_required',
};

const ID_TOKEN_ALGS = ['RS256', 'ES256', 'EdDSA'];
const MAX_POST_LOGOUT_REDIRECT_URIS = 20;

/** The OpenID metadata present in `source` (events, state, input): absent fields stay absent. */
export function openIdMetadataOf(source: OpenIdClientMetadata): OpenIdClientMetadata {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) if (source[field] !== undefined) out[field] = source[field];
  return out as OpenIdClientMetadata;
}

/** Reads the Registration §2 members of an RFC 7591 document (types only; rules: checkOpenIdMetadata). */
export function parseOpenIdMetadata(doc: Record<string, unknown>): OpenIdClientMetadata {
  if (doc.sector_identifier_uri !== undefined && doc.sector_identifier_uri !== null) {
    throw metadataError(
      'sector_identifier_uri is not supported; pairwise subjects use the redirect URIs’ host',
    );
  }
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = doc[MEMBERS[field]];
    if (value !== undefined && value !== null) out[field] = value;
  }
  return out as OpenIdClientMetadata;
}

/**
 * checkOpenIdMetadata (Registration §2, Core §8.1):
 * - id_token_signed_response_alg one of RS256, ES256, EdDSA (never `none`: the code flow's ID
 *   token is always signed here);
 * - subject_type public or pairwise; a pairwise client's redirect URIs share one host, its sector
 *   identifier (Core §8.1, without sector_identifier_uri);
 * - default_max_age a non-negative integer; the booleans booleans;
 * - post_logout_redirect_uris absolute https URLs (http for loopback hosts), backchannel_logout_uri
 *   an absolute https URL, neither with a fragment (Back-Channel Logout 1.0 §2.2).
 */
export function checkOpenIdMetadata(m: OpenIdClientMetadata & { redirectUris: string[] }): void {
  if (m.idTokenSignedResponseAlg !== undefined && !ID_TOKEN_ALGS.includes(m.idTokenSignedResponseAlg))
    throw metadataError(`id_token_signed_response_alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
  if (m.subjectType !== undefined && m.subjectType !== 'public' && m.subjectType !== 'pairwise')
    throw metadataError('subject_type must be public or pairwise');
  if (m.subjectType === 'pairwise') sectorIdentifierOf(m.redirectUris);
  if (
    m.defaultMaxAge !== undefined &&
    (!Number.isInteger(m.defaultMaxAge) || m.defaultMaxAge < 0 || m.defaultMaxAge > 10 * 365 * 86400)
  )
    throw metadataError('default_max_age must be a non-negative integer (seconds)');
  for (const name of ['requireAuthTime', 'backchannelLogoutSessionRequired'] as const) {
    if (m[name] !== undefined && typeof m[name] !== 'boolean')
      throw metadataError(`${MEMBERS[name]} must be a boolean`);
  }
  if (m.postLogoutRedirectUris !== undefined) {
    const uris = m.postLogoutRedirectUris;
    if (
      !Array.isArray(uris) ||
      uris.length > MAX_POST_LOGOUT_REDIRECT_URIS ||
      uris.some((u) => typeof u !== 'string')
    )
      throw metadataError(`post_logout_redirect_uris must be at most ${MAX_POST_LOGOUT_REDIRECT_URIS} URLs`);
    for (const uri of uris) checkLogoutUrl('post_logout_redirect_uris', uri);
  }
  if (m.backchannelLogoutUri !== undefined) {
    if (typeof m.backchannelLogoutUri !== 'string')
      throw metadataError('backchannel_logout_uri must be a URL');
    checkLogoutUrl('backchannel_logout_uri', m.backchannelLogoutUri);
    // Back-Channel Logout 1.0 §2.2 lets the OP refuse http: logout tokens are sent over https only,
    // through the outbound guard.
    if (!m.backchannelLogoutUri.startsWith('https://'))
      throw metadataError('backchannel_logout_uri must be https');
  }
}

function checkLogoutUrl(name: string, value: string): void {
  checkUrl(name, value);
  const url = new URL(value);
  if (url.hash !== '' || value.includes('#')) throw metadataError(`${name} must not have a fragment`);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !loopback) throw metadataError(`${name} must be https`);
}

/**
 * Core §8.1: the sector identifier of a pairwise client without sector_identifier_uri is the host of
 * its redirect URIs, which must all share it.
 */
export function sectorIdentifierOf(redirectUris: readonly string[]): string {
  const hosts = new Set(redirectUris.map((u) => new URL(u).host));
  if (hosts.size !== 1) {
    throw new OAuthError(
      'invalid_client_metadata',
      'subject_type pairwise needs redirect URIs on one host (its sector identifier, OpenID Connect Core §8.1)',
    );
  }
  return [...hosts][0]!;
}

/** Registration §2 members of the client information response, for those registered. */
export function openIdMetadataDocument(m: OpenIdClientMetadata): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const field of FIELDS) if (m[field] !== undefined) doc[MEMBERS[field]] = m[field];
  return doc;
}
