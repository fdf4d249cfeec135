/**
 * Every HTTP endpoint of the gateway and of the admin plane (paths under /admin, and /openapi.json,
 * are sent to the admin listener), for the fuzzing suite (issue 10). Keep this table in step with
 * the controllers: test/http-api-docs.e2e.spec.ts fails when an operation of the OpenAPI document
 * has no row here.
 *
 * - `path`: `:name` segments are filled with a fuzzed value or a known one (`ids`);
 * - `methods`: the methods the endpoint serves (the fuzzer also sends every other one);
 * - `body`: what the endpoint reads (a form, JSON, or nothing);
 * - `params`: the parameter names it knows (the fuzzer adds unknown, duplicated and hostile names);
 * - `auth`: the credentials it expects (the fuzzer also sends none, garbage and the wrong kind);
 * - `optional`: built on another branch; a 404 is accepted until it exists.
 */
export interface RouteSpec {
  path: string;
  methods: string[];
  body: 'form' | 'json' | 'none';
  params: string[];
  auth: 'client' | 'admin' | 'registration' | 'initial-access' | 'session' | 'none';
  optional?: boolean;
}

const CLIENT_AUTH = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];
const AUTHORIZE = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'prompt',
  'nonce',
  'response_mode',
  'request',
  'request_uri',
];

export const ROUTES: RouteSpec[] = [
  // RFC 6749 §3.2 token endpoint.
  {
    path: '/token',
    methods: ['POST'],
    body: 'form',
    params: [
      'grant_type',
      'scope',
      'code',
      'redirect_uri',
      'code_verifier',
      'refresh_token',
      'resource',
      'audience',
      ...CLIENT_AUTH,
    ],
    auth: 'client',
  },
  // RFC 7662, RFC 7009.
  {
    path: '/introspect',
    methods: ['POST'],
    body: 'form',
    params: ['token', 'token_type_hint', ...CLIENT_AUTH],
    auth: 'client',
  },
  {
    path: '/revoke',
    methods: ['POST'],
    body: 'form',
    params: ['token', 'token_type_hint', ...CLIENT_AUTH],
    auth: 'client',
  },
  // RFC 8414, RFC 7517.
  {
    path: '/.well-known/oauth-authorization-server',
    methods: ['GET', 'HEAD'],
    body: 'none',
    params: [],
    auth: 'none',
  },
  { path: '/jwks', methods: ['GET', 'HEAD'], body: 'none', params: [], auth: 'none' },
  // OpenID Connect Discovery 1.0 §4, Core §5.3.
  {
    path: '/.well-known/openid-configuration',
    methods: ['GET', 'HEAD'],
    body: 'none',
    params: [],
    auth: 'none',
  },
  { path: '/userinfo', methods: ['GET', 'POST'], body: 'form', params: ['access_token'], auth: 'none' },
  { path: '/openapi.json', methods: ['GET'], body: 'none', params: [], auth: 'none' },
  { path: '/health/live', methods: ['GET'], body: 'none', params: [], auth: 'none' },
  { path: '/health/ready', methods: ['GET'], body: 'none', params: [], auth: 'none' },
  // RFC 7591, RFC 7592.
  {
    path: '/register',
    methods: ['POST'],
    body: 'json',
    params: [
      'client_name',
      'redirect_uris',
      'grant_types',
      'scope',
      'token_endpoint_auth_method',
      'jwks_uri',
    ],
    auth: 'initial-access',
  },
  {
    path: '/register/:clientId',
    methods: ['GET', 'PUT', 'DELETE'],
    body: 'json',
    params: ['client_name'],
    auth: 'registration',
  },
  // Admin API.
  {
    path: '/admin/clients',
    methods: ['GET', 'POST'],
    body: 'json',
    params: ['limit', 'after', 'client_name'],
    auth: 'admin',
  },
  {
    path: '/admin/clients/:id',
    methods: ['GET', 'PUT', 'DELETE'],
    body: 'json',
    params: ['as_of', 'client_name'],
    auth: 'admin',
  },
  { path: '/admin/clients/:id/disable', methods: ['POST'], body: 'none', params: [], auth: 'admin' },
  {
    path: '/admin/clients/:id/rotate-secret',
    methods: ['POST'],
    body: 'json',
    params: ['grace_seconds'],
    auth: 'admin',
  },
  {
    path: '/admin/clients/:id/history',
    methods: ['GET'],
    body: 'none',
    params: ['limit', 'after', 'from', 'to'],
    auth: 'admin',
  },
  {
    path: '/admin/clients/:id/privileged-scopes',
    methods: ['POST'],
    body: 'json',
    params: ['scope'],
    auth: 'admin',
  },
  {
    path: '/admin/clients/:id/privileged-scopes/:scope',
    methods: ['DELETE'],
    body: 'none',
    params: [],
    auth: 'admin',
  },
  {
    path: '/admin/initial-access-tokens',
    methods: ['GET', 'POST'],
    body: 'json',
    params: ['ttl_seconds', 'max_uses'],
    auth: 'admin',
  },
  { path: '/admin/initial-access-tokens/:id', methods: ['DELETE'], body: 'none', params: [], auth: 'admin' },
  {
    path: '/admin/users',
    methods: ['GET', 'POST'],
    body: 'json',
    params: ['limit', 'after', 'username', 'password', 'email', 'name'],
    auth: 'admin',
  },
  { path: '/admin/users/:sub', methods: ['GET'], body: 'none', params: [], auth: 'admin' },
  { path: '/admin/users/:sub/disable', methods: ['POST'], body: 'none', params: [], auth: 'admin' },
  { path: '/admin/users/:sub/enable', methods: ['POST'], body: 'none', params: [], auth: 'admin' },
  { path: '/admin/users/:sub/erase', methods: ['POST'], body: 'none', params: [], auth: 'admin' },
  {
    path: '/admin/users/:sub/password',
    methods: ['POST'],
    body: 'json',
    params: ['password'],
    auth: 'admin',
  },
  { path: '/admin/users/:sub/consents', methods: ['GET'], body: 'none', params: [], auth: 'admin' },
  {
    path: '/admin/users/:sub/consents/:clientId',
    methods: ['DELETE'],
    body: 'none',
    params: [],
    auth: 'admin',
  },
  {
    path: '/admin/users/:sub/history',
    methods: ['GET'],
    body: 'none',
    params: ['limit', 'after', 'from', 'to'],
    auth: 'admin',
  },
  { path: '/admin/grants/:grantId', methods: ['GET'], body: 'none', params: ['as_of'], auth: 'admin' },
  {
    path: '/admin/grants/:grantId/history',
    methods: ['GET'],
    body: 'none',
    params: ['limit', 'after', 'from', 'to'],
    auth: 'admin',
  },
  { path: '/admin/audit/grants/:grantId', methods: ['GET'], body: 'none', params: [], auth: 'admin' },
  {
    path: '/admin/users/:sub/sessions',
    methods: ['GET'],
    body: 'none',
    params: [],
    auth: 'admin',
  },
  {
    path: '/admin/users/:sub/sessions/:sid',
    methods: ['DELETE'],
    body: 'none',
    params: [],
    auth: 'admin',
  },
  { path: '/admin/sessions/:sid', methods: ['GET'], body: 'none', params: ['as_of'], auth: 'admin' },
  {
    path: '/admin/sessions/:sid/history',
    methods: ['GET'],
    body: 'none',
    params: ['limit', 'after', 'from', 'to'],
    auth: 'admin',
  },
  { path: '/admin/audit/sessions/:sid', methods: ['GET'], body: 'none', params: [], auth: 'admin' },
  // The OpenAPI document's Swagger UI.
  { path: '/admin/docs', methods: ['GET'], body: 'none', params: [], auth: 'none' },
  { path: '/admin/tokens/:jti', methods: ['GET'], body: 'none', params: ['as_of'], auth: 'admin' },
  {
    path: '/admin/tokens/:jti/history',
    methods: ['GET'],
    body: 'none',
    params: ['limit', 'after', 'from', 'to'],
    auth: 'admin',
  },
  { path: '/admin/audit/tokens/:jti', methods: ['GET'], body: 'none', params: [], auth: 'admin' },
  { path: '/admin/audit/clients/:id', methods: ['GET'], body: 'none', params: [], auth: 'admin' },
  // Issue 4: the authorization endpoint, login, consent and the user's account page.
  { path: '/authorize', methods: ['GET', 'POST'], body: 'form', params: AUTHORIZE, auth: 'session' },
  { path: '/authorize/resume', methods: ['GET'], body: 'none', params: ['tx'], auth: 'session' },
  {
    path: '/login',
    methods: ['POST'],
    body: 'form',
    params: ['username', 'password', 'tx', 'csrf', 'cancel'],
    auth: 'session',
  },
  {
    path: '/authorize/consent',
    methods: ['POST'],
    body: 'form',
    params: ['decision', 'tx', 'csrf', 'client_id'],
    auth: 'session',
  },
  { path: '/account', methods: ['GET'], body: 'none', params: [], auth: 'session' },
  {
    path: '/account/sessions/end',
    methods: ['POST'],
    body: 'form',
    params: ['sid', 'all', 'csrf'],
    auth: 'session',
  },
  // OpenID Connect RP-Initiated Logout 1.0.
  {
    path: '/logout',
    methods: ['GET', 'POST'],
    body: 'form',
    params: ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state', 'ui_locales', 'logout_hint'],
    auth: 'session',
  },
  {
    path: '/logout/confirm',
    methods: ['POST'],
    body: 'form',
    params: ['csrf', 'client_id', 'post_logout_redirect_uri', 'state'],
    auth: 'session',
  },
  {
    path: '/account/revoke',
    methods: ['POST'],
    body: 'form',
    params: ['client_id', 'csrf'],
    auth: 'session',
  },
];

export const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
