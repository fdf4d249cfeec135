/**
 * Authorization server metadata (RFC 8414 §2), built from the issuer alone so that every replica
 * of the gateway publishes the same document.
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
  registration_endpoint: string;
  grant_types_supported: string[];
  response_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported: string[];
  introspection_endpoint_auth_methods_supported: string[];
  revocation_endpoint_auth_methods_supported: string[];
  scopes_supported: string[];
  code_challenge_methods_supported: string[];
  authorization_response_iss_parameter_supported: boolean;
  service_documentation?: string;
}

/**
 * OpenID Connect Core §3.1.2.1 (`openid`), §5.4 (the claims scopes: UserInfo releases the claims of
 * each that the user has) and §11 (`offline_access`): the scopes the server gives a meaning to,
 * listed in both metadata documents; any other scope a client is registered for works too.
 */
export const STANDARD_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'];

const CONFIDENTIAL_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
/** RFC 7523 §3, RFC 8414 §2: the asymmetric algorithms accepted for private_key_jwt assertions. */
export const CLIENT_ASSERTION_ALGS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
];

export function buildMetadata(issuer: string): AuthorizationServerMetadata {
  const at = (path: string) => `${issuer}${path}`;
  return {
    issuer,
    // RFC 6749 §3.1.
    authorization_endpoint: at('/authorize'),
    token_endpoint: at('/token'),
    jwks_uri: at('/jwks'),
    introspection_endpoint: at('/introspect'),
    revocation_endpoint: at('/revoke'),
    // RFC 7591 §3.
    registration_endpoint: at('/register'),
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    // RFC 8414 §2 RECOMMENDED; OpenID Connect Discovery 1.0 §3.
    scopes_supported: STANDARD_SCOPES,
    // OAuth 2.1 §4.1.1, RFC 9700 §2.1.2: the code flow only.
    response_types_supported: ['code'],
    // `none`: public clients authenticate with PKCE only (RFC 7636; OAuth 2.1 §2.1).
    token_endpoint_auth_methods_supported: [...CONFIDENTIAL_METHODS, 'none'],
    // RFC 8414 §2, RFC 7523 §3: asymmetric algorithms for private_key_jwt assertions.
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    // RFC 7662 §2.1: introspection is for confidential clients only.
    introspection_endpoint_auth_methods_supported: CONFIDENTIAL_METHODS,
    // RFC 7009 §2.1: a public client revokes its own tokens with its client_id alone.
    revocation_endpoint_auth_methods_supported: [...CONFIDENTIAL_METHODS, 'none'],
    // RFC 7636 §4.2, RFC 9700 §2.1.1: S256 only.
    code_challenge_methods_supported: ['S256'],
    // RFC 9207 §3.
    authorization_response_iss_parameter_supported: true,
  };
}
