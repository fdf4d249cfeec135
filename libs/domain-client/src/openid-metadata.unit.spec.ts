import { OAuthError } from '#lib/oauth-errors';
import { normalizeMetadata } from './client-metadata.js';
import { clientMetadataDocument, parseClientMetadataDocument } from './rfc7591.js';
import { sectorIdentifierOf } from './sector-identifier.js';

describe('OpenID Connect client metadata (Dynamic Client Registration 1.0 §2)', () => {
  const base = {
    client_name: 'RP',
    grant_types: ['authorization_code'],
    redirect_uris: ['https://rp.test/cb', 'https://rp.test/other'],
    scope: 'openid profile',
  };
  const normalized = (doc: Record<string, unknown>) =>
    normalizeMetadata(parseClientMetadataDocument({ ...base, ...doc }));
  const refusal = (doc: Record<string, unknown>) => {
    try {
      normalized(doc);
    } catch (err) {
      if (err instanceof OAuthError) return err.error;
      throw err;
    }
    return 'accepted';
  };

  it('stores the members registered, and none that were not (a plain client is as before)', () => {
    const m = normalized({
      id_token_signed_response_alg: 'EdDSA',
      subject_type: 'pairwise',
      default_max_age: 3600,
      require_auth_time: true,
      post_logout_redirect_uris: ['https://rp.test/bye'],
      backchannel_logout_uri: 'https://rp.test/logout',
      backchannel_logout_session_required: true,
    });
    expect(m).toMatchObject({
      idTokenSignedResponseAlg: 'EdDSA',
      subjectType: 'pairwise',
      defaultMaxAge: 3600,
      requireAuthTime: true,
      postLogoutRedirectUris: ['https://rp.test/bye'],
      backchannelLogoutUri: 'https://rp.test/logout',
      backchannelLogoutSessionRequired: true,
    });
    const plain = normalized({});
    for (const field of [
      'idTokenSignedResponseAlg',
      'subjectType',
      'defaultMaxAge',
      'postLogoutRedirectUris',
    ])
      expect(Object.hasOwn(plain, field)).toBe(false);
  });

  it('the client information response carries them back (RFC 7591 §3.2.1)', () => {
    const view = {
      clientId: 'c1',
      clientName: 'RP',
      status: 'active' as const,
      tokenEndpointAuthMethod: 'client_secret_basic' as const,
      grantTypes: ['authorization_code'],
      scope: ['openid'],
      defaultScope: [],
      audience: [],
      idTokenSignedResponseAlg: 'ES256' as const,
      subjectType: 'pairwise' as const,
    };
    expect(clientMetadataDocument(view)).toMatchObject({
      id_token_signed_response_alg: 'ES256',
      subject_type: 'pairwise',
    });
    expect(clientMetadataDocument({ ...view, idTokenSignedResponseAlg: undefined })).not.toHaveProperty(
      'id_token_signed_response_alg',
    );
  });

  it.each([
    [{ id_token_signed_response_alg: 'none' }],
    [{ id_token_signed_response_alg: 'HS256' }],
    [{ subject_type: 'secret' }],
    [{ default_max_age: -1 }],
    [{ default_max_age: 1.5 }],
    [{ require_auth_time: 'yes' }],
    [{ post_logout_redirect_uris: ['http://rp.test/bye'] }],
    [{ post_logout_redirect_uris: ['https://rp.test/bye#x'] }],
    [{ backchannel_logout_uri: 'javascript:alert(1)' }],
    [{ backchannel_logout_uri: 'http://localhost:8080/logout' }],
    [{ backchannel_logout_session_required: 1 }],
    // Registration §5: refused unless the caller fetched its document.
    [{ sector_identifier_uri: 'https://rp.test/sector.json' }],
  ])('refuses %j with invalid_client_metadata', (doc) => {
    expect(refusal(doc)).toBe('invalid_client_metadata');
  });

  it('Core §8.1: a pairwise client needs its redirect URIs on one host, its sector identifier', () => {
    expect(sectorIdentifierOf({ redirectUris: ['https://rp.test/cb', 'https://rp.test/other'] })).toBe(
      'rp.test',
    );
    expect(
      refusal({ subject_type: 'pairwise', redirect_uris: ['https://a.test/cb', 'https://b.test/cb'] }),
    ).toBe('invalid_client_metadata');
    expect(
      refusal({ subject_type: 'public', redirect_uris: ['https://a.test/cb', 'https://b.test/cb'] }),
    ).toBe('accepted');
  });
});
