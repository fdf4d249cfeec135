import { NO_OUTBOUND_EXCEPTIONS, type OutboundAllowList } from '#lib/outbound-guard';
import { checkUrl, metadataError } from './metadata-checks.js';
import {
  checkSectorIdentifierUri,
  checkSectorRedirectUris,
  sectorIdentifierOf,
} from './sector-identifier.js';

/**
 * OpenID Connect Dynamic Client Registration 1.0 §2 client metadata, each absent unless registered
 * (so that a client registered without them, and its events, are as before). Logout metadata is
 * stored for the logout endpoints; `sector_identifier_uri` is fetched by the caller and its
 * document given to the checks (sector-identifier.ts).
 */
export interface OpenIdClientMetadata {
  /** The ID token's JWS alg; absent: RS256 (Registration §2). */
  idTokenSignedResponseAlg?: 'RS256' | 'ES256' | 'EdDSA';
  /** Core §8; absent: public. */
  subjectType?: 'public' | 'pairwise';
  /** Core §8.1, Registration §5: its host is a pairwise client's sector identifier. */
  sectorIdentifierUri?: string;
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
  'sectorIdentifierUri',
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
  sectorIdentifierUri: 'sector_identifier_uri',
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
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = doc[MEMBERS[field]];
    if (value !== undefined && value !== null) out[field] = value;
  }
  return out as OpenIdClientMetadata;
}

/** What the OpenID metadata is judged by besides itself, passed in by the caller. */
export interface OpenIdMetadataRules {
  outboundAllow: OutboundAllowList;
  /** The JSON array the caller fetched from sector_identifier_uri (Registration §5). */
  sectorRedirectUris?: readonly string[];
}

/**
 * checkOpenIdMetadata (Registration §2 and §5, Core §8.1):
 * - id_token_signed_response_alg one of RS256, ES256, EdDSA (never `none`: the code flow's ID
 *   token is always signed here);
 * - subject_type public or pairwise; a pairwise client without sector_identifier_uri has its
 *   redirect URIs on one host, its sector identifier (Core §8.1);
 * - sector_identifier_uri an https URL whose fetched document lists every redirect URI (§5);
 * - default_max_age a non-negative integer; the booleans booleans;
 * - post_logout_redirect_uris absolute https URLs (http for loopback hosts), backchannel_logout_uri
 *   an absolute https URL, neither with a fragment (Back-Channel Logout 1.0 §2.2).
 */
export function checkOpenIdMetadata(
  m: OpenIdClientMetadata & { redirectUris: string[] },
  rules: OpenIdMetadataRules = { outboundAllow: NO_OUTBOUND_EXCEPTIONS },
): void {
  if (m.idTokenSignedResponseAlg !== undefined && !ID_TOKEN_ALGS.includes(m.idTokenSignedResponseAlg))
    throw metadataError(`id_token_signed_response_alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
  if (m.subjectType !== undefined && m.subjectType !== 'public' && m.subjectType !== 'pairwise')
    throw metadataError('subject_type must be public or pairwise');
  if (m.sectorIdentifierUri !== undefined) {
    checkSectorIdentifierUri(m.sectorIdentifierUri, rules.outboundAllow);
    checkSectorRedirectUris(m.redirectUris, rules.sectorRedirectUris);
  }
  if (m.subjectType === 'pairwise') sectorIdentifierOf(m);
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

/** Registration §2 members of the client information response, for those registered. */
export function openIdMetadataDocument(m: OpenIdClientMetadata): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const field of FIELDS) if (m[field] !== undefined) doc[MEMBERS[field]] = m[field];
  return doc;
}
