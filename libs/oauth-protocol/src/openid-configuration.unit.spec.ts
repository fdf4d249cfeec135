import { buildMetadata } from './metadata.js';
import { buildOpenIdConfiguration } from './openid-configuration.js';

describe('OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3)', () => {
  const issuer = 'https://as.test';
  const config = buildOpenIdConfiguration(issuer);

  it('carries every REQUIRED member (§3)', () => {
    for (const member of [
      'issuer',
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'response_types_supported',
      'subject_types_supported',
      'id_token_signing_alg_values_supported',
    ] as const) {
      expect(config[member]).toBeDefined();
    }
    expect(config.issuer).toBe(issuer);
  });

  it('supports RS256 for ID tokens (Core §15.1), with ES256 and EdDSA; never none', () => {
    expect(config.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256', 'EdDSA']);
    expect(config.id_token_signing_alg_values_supported).not.toContain('none');
  });

  it('has the same value as the RFC 8414 document for every member the two share', () => {
    const rfc8414 = buildMetadata(issuer) as unknown as Record<string, unknown>;
    const oidc = config as unknown as Record<string, unknown>;
    for (const [member, value] of Object.entries(rfc8414))
      expect([member, oidc[member]]).toEqual([member, value]);
  });

  it('lists the OpenID scopes in both documents', () => {
    expect(config.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access']));
    expect(buildMetadata(issuer).scopes_supported).toEqual(config.scopes_supported);
  });

  it('states what it does not do where the §3 default would promise it', () => {
    // §3: request_uri_parameter_supported defaults to true, response_modes to query and fragment.
    expect(config.request_uri_parameter_supported).toBe(false);
    expect(config.request_parameter_supported).toBe(false);
    expect(config.response_modes_supported).toEqual(['query']);
    expect(config.grant_types_supported).not.toContain('implicit');
  });

  it('supports the claims request parameter (Core §5.5), which §3 defaults to false', () => {
    expect(config.claims_parameter_supported).toBe(true);
  });

  it('names the end-session endpoint (RP-Initiated Logout 1.0 §2.1)', () => {
    expect(config.end_session_endpoint).toBe(`${issuer}/logout`);
    expect(config.backchannel_logout_supported).toBe(true);
    expect(config.backchannel_logout_session_supported).toBe(true);
  });
});
