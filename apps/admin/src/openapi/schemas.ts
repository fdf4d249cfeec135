import { SUPPORTED_GRANT_TYPES } from '#lib/domain-client';

/**
 * The named schemas (`components.schemas`) of the OpenAPI document: the JSON the admin listener
 * and the public endpoints it documents answer with, as libs/contracts admin-documents.ts and
 * libs/domain-client clientMetadataDocument write it (snake_case, RFC 7591 §2), and the audit
 * API's pages as the services return them.
 */
type Schema = Record<string, unknown>;

const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer' };
const instant: Schema = { type: 'string', format: 'date-time' };
const strings: Schema = { type: 'array', items: string };
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** RFC 7591 §2 client metadata as an administrator or a client sends it. */
const clientMetadataProperties: Record<string, Schema> = {
  client_name: string,
  token_endpoint_auth_method: {
    type: 'string',
    enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
  },
  grant_types: { type: 'array', items: { type: 'string', enum: [...SUPPORTED_GRANT_TYPES] } },
  response_types: { type: 'array', items: { type: 'string', enum: ['code'] } },
  redirect_uris: strings,
  scope: { type: 'string', description: 'space-separated allowed scope (RFC 6749 §3.3)' },
  default_scope: string,
  audience: strings,
  client_uri: string,
  logo_uri: string,
  contacts: strings,
  require_pkce: { type: 'boolean', description: 'absent: true (RFC 9700 §2.1.1)' },
  refresh_token_reuse_grace_seconds: { type: 'integer', minimum: 0, maximum: 60 },
  access_token_ttl_seconds: integer,
  refresh_token_ttl_seconds: integer,
  jwks: ref('JsonWebKeySet'),
  jwks_uri: string,
};

/** An RFC 7591 §3.2.1 client information response (without the secrets shown once). */
const clientProperties: Record<string, Schema> = {
  client_id: string,
  ...clientMetadataProperties,
  status: { type: 'string', enum: ['active', 'disabled'] },
  client_id_issued_at: { type: 'integer', description: 'seconds since the epoch' },
  client_secret_expires_at: { type: 'integer', description: 'seconds since the epoch; 0: never' },
};

const auditEvent: Schema = {
  type: 'object',
  description: 'one recorded event (docs/events.md describes each payload)',
  required: ['position', 'streamId', 'version', 'type', 'schemaVersion', 'recordedAt', 'data', 'metadata'],
  properties: {
    position: integer,
    streamId: string,
    version: integer,
    type: string,
    schemaVersion: integer,
    recordedAt: instant,
    data: {},
    metadata: { type: 'object', additionalProperties: true },
  },
};

/** A page of an audit history: `next` is the `after` of the following page, null on the last. */
const historyPage = (key: string): Schema => ({
  type: 'object',
  required: [key, 'events', 'next'],
  properties: {
    [key]: string,
    events: { type: 'array', items: ref('AuditEvent') },
    next: nullable(integer),
  },
});

export const ADMIN_SCHEMAS: Record<string, Schema> = {
  OAuthError: {
    type: 'object',
    description: 'RFC 6749 §5.2, RFC 6750 §3.1 error response',
    required: ['error', 'error_description'],
    properties: { error: string, error_description: string },
  },
  ClientMetadata: {
    type: 'object',
    description: 'RFC 7591 §2 client metadata (request)',
    required: ['client_name', 'grant_types'],
    properties: clientMetadataProperties,
  },
  Client: {
    type: 'object',
    description: 'RFC 7591 §3.2.1 client information (never the secret)',
    required: ['client_id', 'client_name', 'token_endpoint_auth_method', 'grant_types', 'scope', 'status'],
    properties: clientProperties,
  },
  ClientCreated: {
    type: 'object',
    description: 'the client information with the secrets shown once (RFC 7591 §3.2.1, RFC 7592 §3)',
    required: ['client_id', 'registration_access_token'],
    properties: { ...clientProperties, client_secret: string, registration_access_token: string },
  },
  ClientOrState: {
    description: 'the client (Client), or with `as_of` its state then (ClientAsOf)',
    oneOf: [ref('Client'), ref('ClientAsOf')],
  },
  ClientPage: {
    type: 'object',
    required: ['clients', 'next'],
    properties: { clients: { type: 'array', items: ref('Client') }, next: nullable(string) },
  },
  RotatedSecret: {
    type: 'object',
    required: ['client_id', 'client_secret', 'client_secret_expires_at'],
    properties: { client_id: string, client_secret: string, client_secret_expires_at: integer },
  },
  InitialAccessToken: {
    type: 'object',
    description: 'an RFC 7591 §3 initial access token (never the token itself)',
    required: ['id', 'created_at', 'expires_at', 'max_uses', 'uses', 'status'],
    properties: {
      id: string,
      created_at: instant,
      expires_at: instant,
      max_uses: nullable(integer),
      uses: integer,
      status: string,
      revoked_at: instant,
    },
  },
  InitialAccessTokenCreated: {
    allOf: [
      ref('InitialAccessToken'),
      { type: 'object', required: ['initial_access_token'], properties: { initial_access_token: string } },
    ],
  },
  InitialAccessTokenList: {
    type: 'object',
    required: ['initial_access_tokens'],
    properties: { initial_access_tokens: { type: 'array', items: ref('InitialAccessToken') } },
  },
  User: {
    type: 'object',
    description: 'a resource owner (never the password hash)',
    required: ['sub', 'username', 'email', 'name', 'status', 'created_at'],
    properties: {
      sub: string,
      username: string,
      email: nullable(string),
      name: nullable(string),
      status: { type: 'string', enum: ['active', 'disabled', 'erased'] },
      created_at: instant,
    },
  },
  NewUser: {
    type: 'object',
    required: ['username', 'password'],
    properties: { username: string, password: { type: 'string', minLength: 8 }, email: string, name: string },
  },
  UserPage: {
    type: 'object',
    required: ['users', 'next'],
    properties: { users: { type: 'array', items: ref('User') }, next: nullable(string) },
  },
  Consents: {
    type: 'object',
    required: ['sub', 'consents'],
    properties: {
      sub: string,
      consents: {
        type: 'array',
        items: {
          type: 'object',
          required: ['client_id', 'scope', 'granted_at'],
          properties: { client_id: string, scope: string, granted_at: instant },
        },
      },
    },
  },
  ConsentRevoked: {
    type: 'object',
    required: ['revoked', 'grants_revoked'],
    properties: { revoked: { type: 'boolean' }, grants_revoked: integer },
  },
  Sessions: {
    type: 'object',
    required: ['sub', 'sessions'],
    properties: {
      sub: string,
      sessions: {
        type: 'array',
        items: {
          type: 'object',
          required: [
            'sid',
            'auth_time',
            'amr',
            'acr',
            'browser',
            'os',
            'started_at',
            'last_used_at',
            'expires_at',
            'clients',
          ],
          properties: {
            sid: string,
            auth_time: instant,
            amr: { type: 'array', items: string },
            acr: string,
            browser: string,
            os: string,
            started_at: instant,
            last_used_at: instant,
            expires_at: instant,
            clients: { type: 'array', items: string },
          },
        },
      },
    },
  },
  SessionEnded: {
    type: 'object',
    required: ['ended'],
    properties: { ended: { type: 'boolean' } },
  },
  AuditEvent: auditEvent,
  TokenHistoryPage: historyPage('jti'),
  ClientHistoryPage: historyPage('clientId'),
  GrantHistoryPage: historyPage('grantId'),
  UserHistoryPage: historyPage('sub'),
  SessionHistoryPage: historyPage('sid'),
  SessionAsOf: {
    type: 'object',
    required: [
      'sid',
      'asOf',
      'status',
      'sub',
      'authTime',
      'amr',
      'acr',
      'userAgent',
      'startedAt',
      'lastUsedAt',
      'expiresAt',
      'clients',
    ],
    properties: {
      sid: string,
      asOf: instant,
      status: { type: 'string', enum: ['active', 'ended', 'expired'] },
      sub: string,
      authTime: instant,
      amr: strings,
      acr: string,
      userAgent: {
        type: 'object',
        required: ['browser', 'os'],
        properties: { browser: string, os: string },
      },
      startedAt: instant,
      lastUsedAt: instant,
      expiresAt: instant,
      clients: strings,
      endedAt: instant,
      endReason: string,
      logoutNotifications: {
        type: 'array',
        description: 'Back-Channel Logout 1.0 deliveries to the clients of the ended session',
        items: {
          type: 'object',
          required: ['clientId', 'status', 'attempts'],
          properties: {
            clientId: string,
            status: { type: 'string', enum: ['pending', 'sending', 'delivered', 'abandoned'] },
            attempts: integer,
            lastStatus: integer,
            lastReason: string,
          },
        },
      },
    },
  },
  TokenAsOf: {
    type: 'object',
    required: ['jti', 'asOf', 'status', 'clientId', 'sub', 'scope', 'aud', 'iat', 'exp', 'position'],
    properties: {
      jti: string,
      asOf: instant,
      status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
      clientId: string,
      sub: string,
      scope: strings,
      aud: strings,
      iat: integer,
      exp: integer,
      revokedAt: instant,
      position: integer,
    },
  },
  ClientAsOf: {
    type: 'object',
    description: "the client's state replayed up to `asOf` (the services' view, camelCase)",
    required: ['asOf', 'client', 'position'],
    properties: { asOf: instant, client: { type: 'object', additionalProperties: true }, position: integer },
  },
  GrantAsOf: {
    type: 'object',
    required: ['grantId', 'asOf', 'status', 'clientId', 'sub', 'scope', 'resource', 'authTime', 'position'],
    properties: {
      grantId: string,
      asOf: instant,
      status: { type: 'string', enum: ['code_issued', 'active', 'revoked', 'expired'] },
      clientId: string,
      sub: string,
      username: string,
      scope: strings,
      resource: strings,
      authTime: integer,
      codeExpiresAt: instant,
      refresh: {
        type: 'object',
        properties: { generation: integer, scope: strings, expiresAt: instant, familyExpiresAt: instant },
      },
      accessTokenJtis: strings,
      revocationReason: string,
      position: integer,
    },
  },
  Liveness: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok'] } },
  },
  Readiness: {
    type: 'object',
    required: ['status', 'services'],
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      services: { type: 'object', additionalProperties: { type: 'string', enum: ['ok', 'unavailable'] } },
    },
  },
  JsonWebKeySet: {
    type: 'object',
    description: 'RFC 7517 §5 JWK Set',
    required: ['keys'],
    properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
  },
};
