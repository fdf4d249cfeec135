/**
 * Authorization server metadata (RFC 8414 §2), built from the issuer alone so that every replica
 * of the gateway publishes the same document.
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
  grant_types_supported: string[];
  response_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  introspection_endpoint_auth_methods_supported: string[];
  revocation_endpoint_auth_methods_supported: string[];
  scopes_supported?: string[];
  code_challenge_methods_supported: string[];
  authorization_response_iss_parameter_supported: boolean;
  service_documentation?: string;
}

export function buildMetadata(issuer: string): AuthorizationServerMetadata {
  const at = (path: string) => `${issuer}${path}`;
  return {
    issuer,
    token_endpoint: at('/token'),
    jwks_uri: at('/jwks'),
    introspection_endpoint: at('/introspect'),
    revocation_endpoint: at('/revoke'),
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // RFC 7662 §2.1 / checklist decision 11: introspection is for confidential clients only.
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // RFC 7636 §4.2 / checklist decision 1: S256 only.
    code_challenge_methods_supported: ['S256'],
    // RFC 9207 §3.
    authorization_response_iss_parameter_supported: true,
  };
}
