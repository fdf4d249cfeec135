/**
 * The public listener's machine endpoints (apps/gateway), described in the admin plane's document
 * so that one document gives an SDK everything: each path names the issuer as its server (OpenAPI
 * 3.0 §4.7.9 Path Item `servers`). The browser endpoints (/authorize, /login, /account) are pages
 * for a person, not an API, and are left out.
 */
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const string: Schema = { type: 'string' };
const strings: Schema = { type: 'array', items: string };
const json = (schema: Schema) => ({ 'application/json': { schema } });

export const PUBLIC_SCHEMAS: Record<string, Schema> = {
  TokenResponse: {
    type: 'object',
    description: 'RFC 6749 §5.1 access token response',
    required: ['access_token', 'token_type', 'expires_in'],
    properties: {
      access_token: string,
      token_type: { type: 'string', enum: ['Bearer'] },
      expires_in: { type: 'integer' },
      scope: string,
      refresh_token: string,
    },
  },
  IntrospectionResponse: {
    type: 'object',
    description: 'RFC 7662 §2.2 introspection response (only `active` when inactive)',
    required: ['active'],
    properties: {
      active: { type: 'boolean' },
      scope: string,
      client_id: string,
      username: string,
      token_type: { type: 'string', enum: ['Bearer'] },
      exp: { type: 'integer' },
      iat: { type: 'integer' },
      nbf: { type: 'integer' },
      sub: string,
      aud: { oneOf: [string, strings] },
      iss: string,
      jti: string,
    },
  },
  AuthorizationServerMetadata: {
    type: 'object',
    description: 'RFC 8414 §2 authorization server metadata',
    required: ['issuer', 'token_endpoint', 'jwks_uri', 'response_types_supported'],
    properties: {
      issuer: string,
      authorization_endpoint: string,
      token_endpoint: string,
      jwks_uri: string,
      introspection_endpoint: string,
      revocation_endpoint: string,
      registration_endpoint: string,
      grant_types_supported: strings,
      response_types_supported: strings,
      token_endpoint_auth_methods_supported: strings,
      token_endpoint_auth_signing_alg_values_supported: strings,
      introspection_endpoint_auth_methods_supported: strings,
      revocation_endpoint_auth_methods_supported: strings,
      scopes_supported: strings,
      code_challenge_methods_supported: strings,
      authorization_response_iss_parameter_supported: { type: 'boolean' },
      service_documentation: string,
    },
  },
  OpenIdProviderMetadata: {
    description: 'OpenID Connect Discovery 1.0 §3 provider metadata (the RFC 8414 members and these)',
    allOf: [
      ref('AuthorizationServerMetadata'),
      {
        type: 'object',
        required: ['subject_types_supported', 'id_token_signing_alg_values_supported'],
        properties: {
          subject_types_supported: strings,
          id_token_signing_alg_values_supported: strings,
          response_modes_supported: strings,
          claims_supported: strings,
          claim_types_supported: strings,
          userinfo_endpoint: string,
          end_session_endpoint: string,
          backchannel_logout_supported: { type: 'boolean' },
          backchannel_logout_session_supported: { type: 'boolean' },
          claims_parameter_supported: { type: 'boolean' },
          request_parameter_supported: { type: 'boolean' },
          request_uri_parameter_supported: { type: 'boolean' },
          require_request_uri_registration: { type: 'boolean' },
        },
      },
    ],
  },
  RegisteredClient: {
    description: 'RFC 7591 §3.2.1 / RFC 7592 §3 client information response',
    allOf: [
      ref('Client'),
      {
        type: 'object',
        required: ['registration_client_uri'],
        properties: {
          registration_client_uri: string,
          registration_access_token: string,
          client_secret: string,
        },
      },
    ],
  },
  TokenRequest: {
    type: 'object',
    description: 'RFC 6749 §4.1.3, §4.4.2, §6 token request (client authentication per RFC 6749 §2.3)',
    required: ['grant_type'],
    properties: {
      grant_type: { type: 'string', enum: ['authorization_code', 'refresh_token', 'client_credentials'] },
      code: string,
      redirect_uri: string,
      code_verifier: string,
      refresh_token: string,
      scope: string,
      resource: { oneOf: [string, strings], description: 'RFC 8707 §2' },
      client_id: string,
      client_secret: string,
      client_assertion_type: string,
      client_assertion: string,
    },
  },
  UserInfo: {
    type: 'object',
    description: 'OpenID Connect Core §5.3.2 UserInfo response: sub and the claims the scope releases',
    required: ['sub'],
    properties: {
      sub: string,
      name: string,
      preferred_username: string,
      email: string,
      email_verified: { type: 'boolean' },
    },
  },
  UserInfoRequest: {
    type: 'object',
    description: 'RFC 6750 §2.2: the access token in the form body (instead of the Authorization header)',
    properties: { access_token: string },
  },
  TokenReference: {
    type: 'object',
    description: 'RFC 7662 §2.1, RFC 7009 §2.1 request',
    required: ['token'],
    properties: {
      token: string,
      token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'] },
      client_id: string,
      client_secret: string,
      client_assertion_type: string,
      client_assertion: string,
    },
  },
};

const error = (description: string) => ({ description, content: json(ref('OAuthError')) });
const CLIENT_ERRORS = {
  '400': error('invalid_request, invalid_grant, unsupported_grant_type, invalid_scope…'),
  '401': error('invalid_client (RFC 6749 §5.2)'),
};
const REGISTRATION_ERRORS = {
  '400': error('invalid_client_metadata, invalid_redirect_uri (RFC 7591 §3.2.2)'),
  '401': error('invalid_token: the initial or registration access token (RFC 6750 §3.1)'),
};
const USERINFO_ERRORS = {
  '400': error('invalid_request: the token sent in more than one place, or in the query (RFC 6750 §2)'),
  '401': error(
    'invalid_token: missing, malformed, unknown, expired or revoked, or not issued for a user (RFC 6750 §3.1)',
  ),
  '403': error('insufficient_scope: the token lacks openid (OpenID Connect Core §5.3.3)'),
};
const form = (name: string) => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: ref(name) } },
});
const clientIdParameter = { name: 'clientId', in: 'path', required: true, schema: string };

const tags = ['public'];

const PUBLIC_PATHS: Record<string, Schema> = {
  '/token': {
    post: {
      operationId: 'requestToken',
      summary: 'The token endpoint (RFC 6749 §3.2)',
      tags,
      requestBody: form('TokenRequest'),
      responses: {
        '200': { description: 'RFC 6749 §5.1', content: json(ref('TokenResponse')) },
        ...CLIENT_ERRORS,
      },
    },
  },
  '/introspect': {
    post: {
      operationId: 'introspectToken',
      summary: 'Token introspection (RFC 7662)',
      tags,
      requestBody: form('TokenReference'),
      responses: {
        '200': { description: 'RFC 7662 §2.2', content: json(ref('IntrospectionResponse')) },
        ...CLIENT_ERRORS,
      },
    },
  },
  '/revoke': {
    post: {
      operationId: 'revokeToken',
      summary: 'Token revocation (RFC 7009); an unknown token is answered 200 too',
      tags,
      requestBody: form('TokenReference'),
      responses: { '200': { description: 'revoked (RFC 7009 §2.2), no body' }, ...CLIENT_ERRORS },
    },
  },
  '/.well-known/oauth-authorization-server': {
    get: {
      operationId: 'getServerMetadata',
      summary: 'Authorization server metadata (RFC 8414 §3)',
      tags,
      responses: {
        '200': { description: 'RFC 8414 §3.2', content: json(ref('AuthorizationServerMetadata')) },
      },
    },
  },
  '/.well-known/openid-configuration': {
    get: {
      operationId: 'getOpenIdConfiguration',
      summary: 'OpenID Provider configuration (OpenID Connect Discovery 1.0 §4)',
      tags,
      responses: {
        '200': {
          description: 'OpenID Connect Discovery 1.0 §4.2',
          content: json(ref('OpenIdProviderMetadata')),
        },
        '405': error('method_not_allowed: GET or HEAD only'),
      },
    },
  },
  '/userinfo': {
    get: {
      operationId: 'getUserInfo',
      summary: "The access token's user's claims (OpenID Connect Core §5.3), bearer token in the header",
      tags,
      responses: {
        '200': { description: 'Core §5.3.2', content: json(ref('UserInfo')) },
        ...USERINFO_ERRORS,
      },
    },
    post: {
      operationId: 'postUserInfo',
      summary: 'UserInfo by POST (Core §5.3.1), the token in the header or the form body (RFC 6750 §2.2)',
      tags,
      requestBody: {
        required: false,
        content: { 'application/x-www-form-urlencoded': { schema: ref('UserInfoRequest') } },
      },
      responses: {
        '200': { description: 'Core §5.3.2', content: json(ref('UserInfo')) },
        ...USERINFO_ERRORS,
      },
    },
  },
  '/jwks': {
    get: {
      operationId: 'getJwks',
      summary: "The issuer's public signing keys (RFC 7517 §5)",
      tags,
      responses: {
        '200': {
          description: 'the JWK Set',
          content: { 'application/jwk-set+json': { schema: ref('JsonWebKeySet') } },
        },
        '503': error('temporarily_unavailable'),
      },
    },
  },
  '/register': {
    post: {
      operationId: 'registerClient',
      summary: 'Dynamic client registration behind an initial access token (RFC 7591 §3)',
      tags,
      security: [{ bearer: [] }],
      requestBody: { required: true, content: json(ref('ClientMetadata')) },
      responses: {
        '201': { description: 'RFC 7591 §3.2.1', content: json(ref('RegisteredClient')) },
        ...REGISTRATION_ERRORS,
      },
    },
  },
  '/register/{clientId}': {
    parameters: [clientIdParameter],
    get: {
      operationId: 'readRegistration',
      summary: 'Read the registration with the registration access token (RFC 7592 §2.1)',
      tags,
      security: [{ bearer: [] }],
      responses: {
        '200': { description: 'RFC 7592 §3', content: json(ref('RegisteredClient')) },
        ...REGISTRATION_ERRORS,
      },
    },
    put: {
      operationId: 'updateRegistration',
      summary: 'Replace the registration (RFC 7592 §2.2)',
      tags,
      security: [{ bearer: [] }],
      requestBody: { required: true, content: json(ref('ClientMetadata')) },
      responses: {
        '200': { description: 'RFC 7592 §3', content: json(ref('RegisteredClient')) },
        ...REGISTRATION_ERRORS,
      },
    },
    delete: {
      operationId: 'deleteRegistration',
      summary: 'Delete the registration (RFC 7592 §2.3)',
      tags,
      security: [{ bearer: [] }],
      responses: { '204': { description: 'deleted' }, ...REGISTRATION_ERRORS },
    },
  },
};

/** The public paths, each with the issuer as its server. */
export function publicPaths(issuer: string): Record<string, Schema> {
  const servers = [{ url: issuer, description: 'the public listener (the issuer)' }];
  return Object.fromEntries(Object.entries(PUBLIC_PATHS).map(([path, item]) => [path, { servers, ...item }]));
}
