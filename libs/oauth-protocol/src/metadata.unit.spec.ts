import { buildMetadata } from './metadata.js';

describe('authorization server metadata (RFC 8414 §2; checklist META-02, META-03)', () => {
  const issuer = 'https://as.test';
  const metadata = buildMetadata(issuer);

  it('publishes the issuer byte for byte (META-02)', () => {
    expect(metadata.issuer).toBe(issuer);
    expect(buildMetadata('https://as.test/tenant-a').issuer).toBe('https://as.test/tenant-a');
  });

  it('puts every endpoint under the issuer', () => {
    expect(metadata).toMatchObject({
      token_endpoint: 'https://as.test/token',
      jwks_uri: 'https://as.test/jwks',
      introspection_endpoint: 'https://as.test/introspect',
      revocation_endpoint: 'https://as.test/revoke',
    });
    const withPath = buildMetadata('https://as.test/tenant-a');
    expect(withPath.token_endpoint).toBe('https://as.test/tenant-a/token');
  });

  it('every endpoint URL is absolute and on the issuer host (META-04)', () => {
    for (const key of [
      'token_endpoint',
      'jwks_uri',
      'introspection_endpoint',
      'revocation_endpoint',
    ] as const) {
      const url = new URL(metadata[key]);
      expect(url.origin).toBe(issuer);
      expect(url.search).toBe('');
      expect(url.hash).toBe('');
    }
  });

  it('lists grant_types_supported explicitly and never implicit or password (META-03, RFC 9700 §2.4)', () => {
    expect(metadata.grant_types_supported).toEqual([
      'authorization_code',
      'refresh_token',
      'client_credentials',
    ]);
    expect(metadata.grant_types_supported).not.toContain('implicit');
    expect(metadata.grant_types_supported).not.toContain('password');
  });

  it('advertises client_secret_basic, client_secret_post, private_key_jwt and none at the token endpoint (META-03)', () => {
    expect(metadata.token_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ]);
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).not.toContain('none');
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
  });

  it('names the RFC 7591 registration endpoint', () => {
    expect(metadata.registration_endpoint).toBe(`${metadata.issuer}/register`);
  });

  it('introspection takes confidential clients only (decision 11); revocation public ones too (REV-08)', () => {
    expect(metadata.introspection_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ]);
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ]);
  });

  it('advertises S256 only for PKCE (RFC 7636 §4.2, decision 1) and the iss parameter (RFC 9207 §3)', () => {
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('is the same document on every call (every gateway replica publishes the same)', () => {
    expect(JSON.stringify(buildMetadata(issuer))).toBe(JSON.stringify(metadata));
  });

  it('AUTHZ-45: the authorization endpoint, the code response type only, and iss in responses (RFC 9207 §3)', () => {
    expect(metadata.authorization_endpoint).toBe(`${issuer}/authorize`);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
  });
});
