import { type AuthorizationServerMetadata, buildMetadata } from './metadata.js';

/** OpenID Connect Core §15.1: every OpenID Provider supports RS256; ES256 and EdDSA beside it. */
export const ID_TOKEN_SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type IdTokenSigningAlg = (typeof ID_TOKEN_SIGNING_ALGS)[number];

/** OpenID Connect Core §8: `public` by default, `pairwise` for clients registered for it (§8.1). */
export const SUBJECT_TYPES = ['public', 'pairwise'] as const;

/** OpenID Connect Core §2 and §3.1.3.6: the claims an ID token of this server may carry. */
export const ID_TOKEN_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'at_hash',
  'sid',
  // Core §5.4, from the UserInfo endpoint.
  'name',
  'preferred_username',
  'email',
  'email_verified',
];

/** OpenID Connect Discovery 1.0 §3: the OpenID Provider Metadata, a superset of RFC 8414 §2's. */
export interface OpenIdProviderMetadata extends AuthorizationServerMetadata {
  userinfo_endpoint: string;
  end_session_endpoint: string;
  backchannel_logout_supported: boolean;
  backchannel_logout_session_supported: boolean;
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
  response_modes_supported: string[];
  claims_supported: string[];
  claim_types_supported: string[];
  claims_parameter_supported: boolean;
  request_parameter_supported: boolean;
  request_uri_parameter_supported: boolean;
  require_request_uri_registration: boolean;
}

/**
 * The document at `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4): the RFC 8414
 * document with the same values where the two overlap, and the OpenID Provider members.
 * - §3 REQUIRED: issuer, authorization_endpoint, token_endpoint, jwks_uri, response_types_supported,
 *   subject_types_supported, id_token_signing_alg_values_supported;
 * - members whose default (§3) would promise what this server does not do are stated: no request
 *   objects (`request_uri_parameter_supported` defaults to true), no `fragment` response mode (the code flow answers in the query, OAuth 2.1 §4.1.2).
 */
export function buildOpenIdConfiguration(issuer: string): OpenIdProviderMetadata {
  return {
    ...buildMetadata(issuer),
    // Core §5.3.
    userinfo_endpoint: `${issuer}/userinfo`,
    // RP-Initiated Logout 1.0 §2.1.
    end_session_endpoint: `${issuer}/logout`,
    // Back-Channel Logout 1.0 §2.1: logout tokens are sent, and always carry `sid`.
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    subject_types_supported: [...SUBJECT_TYPES],
    id_token_signing_alg_values_supported: [...ID_TOKEN_SIGNING_ALGS],
    response_modes_supported: ['query'],
    claims_supported: ID_TOKEN_CLAIMS,
    claim_types_supported: ['normal'],
    // Core §5.5: the `claims` request parameter (parseClaimsParameter).
    claims_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    require_request_uri_registration: false,
  };
}
