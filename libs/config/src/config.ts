import { type Keyset, KeysetError, LEGACY_KID, namesLegacyKey, parseKeyset } from '#lib/keysets';
import { OutboundAllowListError, type OutboundAllowList, parseOutboundAllowList } from '#lib/outbound-guard';

/**
 * Every setting of the system, read from the environment, typed, validated and documented here
 * (STYLE.md habit 9). Each service asks for the slice it needs through the small `*Config` types.
 * docs/configuration.md lists the same keys for operators.
 */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, key: string, fallback: string): string {
  const v = env[key];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

function required(env: Env, key: string, purpose: string): string {
  const v = env[key];
  if (v === undefined || v === '') {
    throw new ConfigError(`${key} is not set: ${purpose}. \`npm start\` generates one in .data/secrets.env.`);
  }
  return v;
}

function key32(env: Env, key: string, purpose: string): Buffer {
  const raw = required(env, key, purpose);
  const buf = Buffer.from(raw, 'base64url');
  if (buf.length !== 32) throw new ConfigError(`${key} must be 32 bytes, base64url-encoded (${purpose})`);
  return buf;
}

export interface DatabaseConfig {
  /** DATABASE_URL: Postgres holding the event store and the projections. Default postgres://postgres@127.0.0.1:5432/authz. */
  databaseUrl: string;
  /** DATABASE_POOL_SIZE: connections per process. Default 10. */
  databasePoolSize: number;
}

export interface NatsConfig {
  /**
   * NATS_ALLOW_UNAUTHENTICATED: `true` lets a process with NODE_ENV=production run on a NATS server
   * that asks for no credentials. Default `false`: such a process refuses to start.
   */
  natsAllowUnauthenticated: boolean;
  /** NATS_URL: comma-separated NATS servers (JetStream enabled). Default nats://127.0.0.1:4222. */
  natsServers: string[];
  /** NATS_USER / NATS_PASSWORD or NATS_TOKEN: NATS credentials, when the server requires them. */
  natsUser: string | undefined;
  natsPassword: string | undefined;
  natsToken: string | undefined;
  /**
   * NATS_TLS_CA_FILE: CA bundle that signs the NATS server certificate (TLS to NATS; a `tls://`
   * NATS_URL requires TLS). NATS_TLS_CERT_FILE / NATS_TLS_KEY_FILE: client certificate and key, when
   * the server verifies clients. Unset by default (plain TCP, for local development).
   */
  natsTlsCaFile: string | undefined;
  natsTlsCertFile: string | undefined;
  natsTlsKeyFile: string | undefined;
  /**
   * NATS_SUBJECT_PREFIX: first token of every subject, so that several installations (or a test
   * run beside a dev system) can share one NATS. Default `authz`.
   */
  subjectPrefix: string;
  /** EVENTS_STREAM: name of the JetStream stream that carries the event log. Default AUTHZ_EVENTS. */
  eventsStream: string;
  /** RPC_TIMEOUT_MS: how long the gateway waits for a service before answering 503. Default 5000. */
  rpcTimeoutMs: number;
}

export interface IssuerConfig {
  /**
   * ISSUER: the issuer identifier (RFC 8414 §2): the public origin of the gateway, no query or
   * fragment. Default http://127.0.0.1:8080 (use https in production; RFC 8414 §2 requires it).
   */
  issuer: string;
}

/** What every HTTP listener (the public gateway and the admin plane) is held to. */
export interface HttpEdgeConfig {
  /**
   * HTTP_REQUEST_TIMEOUT_MS: the longest a client may take to send a whole request, headers and
   * body; past it the connection is closed (slow-body attacks). Default 30000.
   */
  httpRequestTimeoutMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS: the longest a client may take to send the headers. Default 10000. */
  httpHeadersTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS: how long an idle keep-alive connection stays open. Default 5000. */
  httpKeepAliveTimeoutMs: number;
  /**
   * TRUST_PROXY: the proxies in front of the listener whose X-Forwarded-For entries count: a hop
   * count (`1`: the address the nearest proxy saw) or a comma-separated list of proxy addresses and
   * CIDRs. Unset: none (the socket's address). `true` (every hop) is refused: a client could then
   * choose its own address.
   */
  trustProxy: number | string[] | false;
  /** MAX_BODY_BYTES: largest request body accepted (checklist INP-02). Default 65536. */
  maxBodyBytes: number;
}

export interface GatewayConfig extends IssuerConfig, HttpEdgeConfig {
  /** HTTP_HOST / HTTP_PORT: where the gateway listens. Default 127.0.0.1:8080. */
  httpHost: string;
  httpPort: number;
  /** MAX_PARAMETERS: most form or query parameters in one request (checklist INP-11). Default 100. */
  maxParameters: number;
  /** JWKS_MAX_AGE_SECONDS: Cache-Control max-age of the JWKS document. Default 300. */
  jwksMaxAgeSeconds: number;
}

/** The admin plane (apps/admin): the admin API and the audit pages, on a listener of their own. */
export interface AdminPlaneConfig extends IssuerConfig, HttpEdgeConfig {
  /**
   * ADMIN_HTTP_HOST / ADMIN_HTTP_PORT: where the admin plane listens. Default 127.0.0.1:8070. In
   * Kubernetes it is reached through its own internal Service, never through the public Ingress.
   */
  adminHttpHost: string;
  adminHttpPort: number;
}

/** What every service that owns a privileged command needs to verify an administrator itself. */
export interface AdminAuthConfig extends IssuerConfig {
  /**
   * ADMIN_AUDIENCE: the `aud` of access tokens for the admin API (RFC 9068 §4); a client an
   * administrator granted `admin` gets tokens with this audience. Default `<ISSUER>/admin`.
   */
  adminAudience: string;
  /**
   * ADMIN_TOKEN: the bootstrap credential of the admin API and the CLI (at least 32 characters),
   * for the first admin client and emergencies. Optional: unset, only access tokens are accepted.
   */
  adminToken: string | undefined;
}

/**
 * The longest access-token lifetime there can be: the bound of a client's access_token_ttl_seconds
 * (libs/domain-client) and of ACCESS_TOKEN_MAX_TTL_SECONDS.
 */
export const MAX_CLIENT_ACCESS_TOKEN_TTL_SECONDS = 86400;
/** The longest refresh-token family: the bound of refresh_token_ttl_seconds and REFRESH_TOKEN_MAX_TTL_SECONDS. */
export const MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS = 365 * 86400;

/*
 * Keys per purpose (libs/keysets): each setting lists `kid:key` entries (32 bytes, base64url),
 * comma-separated, the first current (it hashes or seals what is made now), the others still
 * accepted until the operator removes them. `p0` without a key names the legacy SECRET_PEPPER,
 * which every purpose used before and which, while a setting is unset, is still that purpose's key.
 * docs/operations.md: "Rotating the secret-hash, cookie and CSRF keys".
 */

export interface SecretHashingConfig {
  /**
   * SECRET_HASH_KEYS: the HMAC-SHA-256 keys under which bearer secrets are stored (checklist
   * STORE-01): client secrets, registration access tokens, initial access tokens, authorization
   * codes and refresh tokens; and the key of the login throttle's records. A stored hash names
   * its key (`<kid>.<hash>`); a grant's codes and refresh tokens all use the key its code was
   * hashed under. Unset: the legacy SECRET_PEPPER.
   */
  secretHashKeys: Keyset;
}

export interface CookieKeysConfig {
  /**
   * COOKIE_SEALING_KEYS: the keys that seal (AES-256-GCM) the login session cookie and the
   * authorization transaction the login and consent pages carry. A sealed value names its key
   * (`<kid>.<sealed>`). Only the consent service holds them. Unset: derived from SECRET_PEPPER.
   */
  cookieSealingKeys: Keyset;
  /**
   * CSRF_KEYS: the HMAC keys of the CSRF tokens of the login, consent and account forms (RFC 6749
   * §10.12), each token naming its key. Only the consent service holds them. Unset: derived from
   * SECRET_PEPPER.
   */
  csrfKeys: Keyset;
}

export interface SigningKeyConfig extends IssuerConfig {
  /**
   * KEY_ENCRYPTION_KEY: 32 bytes, base64url. Private signing keys are stored in events encrypted
   * with AES-256-GCM under this key.
   */
  keyEncryptionKey: Buffer;
  /**
   * KEY_ENCRYPTION_KEY_PREVIOUS: optional, 32 bytes, base64url. The key-encryption key being replaced:
   * private keys sealed under it still open until they are rotated out (docs/signing-keys.md).
   */
  previousKeyEncryptionKeys: Buffer[];
  /** SIGNING_ALG: ES256 (default), EdDSA or RS256. */
  signingAlg: 'ES256' | 'EdDSA' | 'RS256';
  /**
   * ACCESS_TOKEN_TTL_SECONDS: the access-token lifetime (RFC 9068 `exp`) of a client that names
   * none; also the most a self-registered client may name. Default 600.
   */
  accessTokenTtlSeconds: number;
  /**
   * ACCESS_TOKEN_MAX_TTL_SECONDS: the server's cap on every access token's lifetime. A client's
   * access_token_ttl_seconds may lower the lifetime, never raise it past this cap, whoever
   * registered it (RFC 7591 §2: the server may replace metadata values). Default
   * ACCESS_TOKEN_TTL_SECONDS; at least that, at most 86400. Raise it to let an administrator give
   * chosen clients longer-lived tokens.
   */
  accessTokenMaxTtlSeconds: number;
  /**
   * GRANT_STATE_CACHE_SIZE: grants the token service keeps folded in memory so that a refresh need
   * not re-read its grant stream (every use is still confirmed by the append). 0 turns it off.
   * Default 5000.
   */
  grantStateCacheSize: number;
  /** JWKS_MAX_AGE_SECONDS: also sets the pre-publication lead of a new key (2 × max-age, decision 14). */
  jwksMaxAgeSeconds: number;
  /**
   * SIGNING_KEY_ROTATION_SECONDS: how long a key signs before the token service rotates it on its
   * own (a successor is published 2 × JWKS_MAX_AGE_SECONDS before). 0 turns scheduled rotation off.
   * Default 2592000 (30 days). Must exceed 2 × JWKS_MAX_AGE_SECONDS (checklist JWKS-06).
   */
  signingKeyRotationSeconds: number;
  /**
   * SIGNING_KEY_RETENTION_SECONDS: how long a retired key stays in the JWKS (checklist decision 14:
   * until the longest-lived token it signed has expired). Default: the longest access-token lifetime
   * (ACCESS_TOKEN_MAX_TTL_SECONDS) + KEYRING_REFRESH_SECONDS (a replica may sign with the old key
   * until it re-reads the keyring); never less.
   */
  signingKeyRetentionSeconds: number;
  /**
   * KEYRING_REFRESH_SECONDS: how often each token replica re-reads the keyring stream (to pick up a
   * key published or activated by another replica or the CLI) and runs the rotation schedule.
   * Default 30.
   */
  keyringRefreshSeconds: number;
  /**
   * REFRESH_TOKEN_IDLE_TTL_SECONDS: a refresh token not used within this many seconds expires
   * (RFC 9700 §4.14.2). Default 1209600 (14 days).
   */
  refreshTokenIdleTtlSeconds: number;
  /**
   * REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: a refresh-token family (one grant) ends this many seconds
   * after the code's redemption, however often it is used, for a client that names no
   * refresh_token_ttl_seconds; also the most a self-registered client may name. Default 2592000
   * (30 days).
   */
  refreshTokenAbsoluteTtlSeconds: number;
  /**
   * REFRESH_TOKEN_MAX_TTL_SECONDS: the server's cap on a family's absolute lifetime; a client's
   * refresh_token_ttl_seconds may lower it, never raise it past this cap. Default
   * REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS; at least that, at most a year.
   */
  refreshTokenMaxTtlSeconds: number;
  /**
   * REFRESH_TOKEN_MAX_ROTATIONS: a refresh-token family ends (RefreshTokenFamilyEnded) once it has
   * been rotated this many times; the client must send the user through authorization again.
   * Default 10000 (a refresh every 5 minutes for a month stays below it).
   */
  refreshTokenMaxRotations: number;
}

/**
 * What the server fetches from URLs a client supplied (jwks_uri today) goes through one outbound
 * guard (libs/outbound-guard, RFC 9700 §4.16): https only, no redirects followed, and never to a
 * loopback, private (RFC 1918), shared (100.64/10), link-local (with 169.254.169.254),
 * unique-local, multicast or reserved address, whether named as an IP literal (refused at
 * registration) or resolved from a host name (refused at fetch time).
 */
export interface OutboundConfig {
  /**
   * OUTBOUND_ALLOW: exceptions the operator allows, separated by commas or spaces: IP addresses
   * (`127.0.0.1`), CIDR ranges (`10.20.0.0/16`) and host names (`jwks.internal.example`, matched
   * exactly, whatever they resolve to). Default empty: no exception.
   */
  outboundAllow: OutboundAllowList;
  /**
   * OUTBOUND_TIMEOUT_MS: the whole of one outbound fetch, from the DNS look-up to the last byte.
   * Default 2500, or half of RPC_TIMEOUT_MS when that is smaller; must be below RPC_TIMEOUT_MS, so
   * that a slow jwks_uri is a 401 invalid_client and not a 503.
   */
  outboundTimeoutMs: number;
  /** OUTBOUND_MAX_BYTES: the largest response body read (a JWK Set). Default 65536. */
  outboundMaxBytes: number;
}

export interface ClientRegistryConfig extends IssuerConfig, OutboundConfig {
  /**
   * PRIVILEGED_SCOPES: space-separated scopes only an administrator can grant (never through RFC
   * 7591/7592). `admin` is always among them.
   */
  privilegedScopes: string[];
  /**
   * REGISTRATION_ALLOWED_SCOPES: space-separated scopes a client may give itself through RFC
   * 7591/7592. Default (unset): any scope that is not privileged.
   */
  registrationAllowedScopes: string[] | null;
  /**
   * REGISTRATION_ALLOWED_AUDIENCES: space-separated audiences (RFC 9068 `aud`) a client may give
   * itself through RFC 7591/7592. Default: none (only an administrator sets a client's audience).
   */
  registrationAllowedAudiences: string[];
  /**
   * CLIENT_AUTH_MAX_FAILURES / CLIENT_AUTH_FAILURE_WINDOW_SECONDS: after this many failed client
   * authentications from one source address (any client_id) within the window, that address gets
   * 429 with Retry-After (see RFC 6749 §2.3.1, OAuth 2.1 §2.4.1). Never counted per client_id:
   * client ids are public, so a per-client lockout would let anyone lock a service out. Defaults 10
   * and 60. Counted in each process that authenticates clients (token, introspection, registry).
   */
  clientAuthMaxFailures: number;
  clientAuthFailureWindowSeconds: number;
  /**
   * OPEN_REGISTRATION: `true` lets anyone POST /register (RFC 7591 §3) without an initial access
   * token. Default `false` (checklist decision 12).
   */
  openRegistration: boolean;
  /** INITIAL_ACCESS_TOKEN_TTL_SECONDS: default lifetime of an initial access token. Default 86400. */
  initialAccessTokenTtlSeconds: number;
  /**
   * CLIENT_SECRET_TTL_SECONDS: lifetime of a client secret, from its registration or rotation; the
   * client reads it as client_secret_expires_at, and a secret past it is refused with 401
   * invalid_client (see RFC 7591 §3.2.1, checklist CAUTH-16). A rotation issues a fresh secret with a
   * fresh lifetime. Applies to secrets issued after it is set. Default 0: secrets never expire.
   */
  clientSecretTtlSeconds: number;
  /**
   * CLIENT_ASSERTION_LEGACY_AUDIENCE: `true` also accepts the token endpoint URL (`<ISSUER>/token`)
   * as the `aud` of a private_key_jwt assertion, as RFC 7523 §3 allowed, for clients not yet
   * updated. Default `false`: the issuer identifier is the only audience accepted, as a single
   * string (draft-ietf-oauth-rfc7523bis closes audience injection). Arrays are refused either way.
   */
  clientAssertionLegacyAudience: boolean;
}

export interface ConsentConfig extends IssuerConfig {
  /**
   * AUTHORIZATION_CODE_TTL_SECONDS: lifetime of an authorization code (RFC 6749 §4.1.2: short,
   * at most 10 minutes; checklist AUTHZ-56). Default 60.
   */
  authorizationCodeTtlSeconds: number;
  /**
   * AUTHORIZATION_REQUEST_TTL_SECONDS: how long the login and consent pages of one authorization
   * request may take before the user must start again. Default 600.
   */
  authorizationRequestTtlSeconds: number;
  /** LOGIN_SESSION_TTL_SECONDS: lifetime of the login session cookie (no password asked again). Default 3600. */
  loginSessionTtlSeconds: number;
  /**
   * LOGIN_MAX_FAILURES / LOGIN_FAILURE_WINDOW_SECONDS: after this many failed logins for one account
   * (from any address) within the window, 429 with Retry-After and exponential back-off (see RFC 6749
   * §10.10). Defaults 5 and 900. LOGIN_MAX_FAILURES_PER_IP: failed logins for any account from one
   * address (an IPv6 /64) within the window before that address waits too (password spraying).
   * Default 20. Each attempt is counted before its password is checked, in the
   * login_throttle table that every consent replica shares.
   */
  loginMaxFailures: number;
  loginFailureWindowSeconds: number;
  loginMaxFailuresPerIp: number;
  /**
   * LOGIN_PASSWORD_CHECKS_CONCURRENCY / LOGIN_PASSWORD_CHECKS_QUEUE: password checks (argon2id,
   * 19 MiB each) running at once in one consent process, and logins admitted beyond those; past
   * both, 503 with Retry-After before anything is counted or read. Defaults 2 and 32.
   */
  loginPasswordChecksConcurrency: number;
  loginPasswordChecksQueue: number;
}

/** Default operations port of each app (one host runs them all under `npm start`). */
export const DEFAULT_OPS_PORTS: Record<string, number> = {
  gateway: 9400,
  'client-registry': 9401,
  consent: 9402,
  token: 9403,
  introspection: 9404,
  admin: 9405,
};

export interface OpsConfig {
  /** OPS_HOST: where the operations listener (/health/*, /metrics) binds. Default 127.0.0.1. */
  opsHost: string;
  /**
   * OPS_PORT: port of the operations listener; 0 turns it off. Default per app: gateway 9400,
   * client-registry 9401, consent 9402, token 9403, introspection 9404.
   */
  opsPort: number | undefined;
  opsPortFor(app: string): number;
  /**
   * SHUTDOWN_TIMEOUT_MS: on SIGTERM, how long a process waits for the requests it accepted to be
   * answered before it closes its connections anyway. Default 10000.
   */
  shutdownTimeoutMs: number;
  /**
   * OTEL_TRACES_EXPORTER: `none` (default: no tracing), `otlp` (OTLP/HTTP to
   * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, default
   * http://localhost:4318/v1/traces) or `console`. The other OTEL_* variables of the
   * OpenTelemetry SDK (OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER, …) apply as documented there.
   */
  tracesExporter: 'none' | 'otlp' | 'console';
}

export interface Config
  extends
    DatabaseConfig,
    NatsConfig,
    GatewayConfig,
    AdminPlaneConfig,
    AdminAuthConfig,
    SecretHashingConfig,
    CookieKeysConfig,
    SigningKeyConfig,
    ClientRegistryConfig,
    OutboundConfig,
    ConsentConfig,
    OpsConfig {
  nodeEnv: string;
  /** LOG_LEVEL: error, warn, log (default), debug. */
  logLevel: 'error' | 'warn' | 'log' | 'debug';
}

function words(raw: string | undefined): string[] {
  return [...new Set((raw ?? '').split(/[\s,]+/).filter(Boolean))];
}

function trustProxyOf(raw: string | undefined): number | string[] | false {
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true')
    throw new ConfigError(
      'TRUST_PROXY=true would trust every X-Forwarded-For hop, so a client could choose its own ' +
        'address: set the number of proxies in front (e.g. 1) or their addresses (CIDRs)',
    );
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 10) throw new ConfigError('TRUST_PROXY must be a hop count from 0 to 10, or addresses');
    return hops;
  }
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of entries) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e))
      throw new ConfigError(`TRUST_PROXY must be a hop count or IP addresses/CIDRs, got "${e}"`);
  }
  return entries;
}

function checkIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`ISSUER must be an absolute URL, got "${issuer}"`);
  }
  // RFC 8414 §2: no query or fragment components.
  // An empty `?` or `#` is still a query or fragment component, though URL reports it as ''.
  if (url.search || url.hash || /[?#]/.test(issuer))
    throw new ConfigError('ISSUER must not have a query or fragment');
  return issuer.replace(/\/+$/, '');
}

const lazySecrets = new Set([
  'adminToken',
  'secretHashKeys',
  'cookieSealingKeys',
  'csrfKeys',
  'keyEncryptionKey',
  'previousKeyEncryptionKeys',
]);

/** The settings of keys per purpose, each with what it keys. */
const KEYSETS = {
  secretHashKeys: ['SECRET_HASH_KEYS', 'the HMAC keys of stored client secrets and tokens'],
  cookieSealingKeys: ['COOKIE_SEALING_KEYS', 'the keys that seal the login session cookie'],
  csrfKeys: ['CSRF_KEYS', 'the keys of the CSRF tokens of the login and consent forms'],
} as const;

/**
 * One purpose's keyset. A key (other than the legacy pepper's) given to two purposes is refused
 * where both settings are present: the keys of one purpose must forge nothing for another.
 */
function keysetOf(env: Env, name: keyof typeof KEYSETS): Keyset {
  const [setting, purpose] = KEYSETS[name];
  // The legacy pepper is read (and must be valid) only where this setting still uses it.
  const legacyKey =
    env.SECRET_PEPPER && namesLegacyKey(env[setting])
      ? key32(env, 'SECRET_PEPPER', 'the legacy key of every purpose')
      : undefined;
  let keys: Keyset;
  try {
    keys = parseKeyset(env[setting], { setting, ...(legacyKey ? { legacyKey } : {}) });
  } catch (err) {
    if (err instanceof KeysetError) throw new ConfigError(`${err.message} (${purpose})`);
    throw err;
  }
  for (const [other, [otherSetting]] of Object.entries(KEYSETS)) {
    if (other === name || !env[otherSetting]) continue;
    const theirs = new Set(
      env[otherSetting]
        .split(',')
        .map((e) => e.trim().split(':')[1])
        .filter(Boolean),
    );
    for (const k of keys.keys) {
      if (k.kid !== LEGACY_KID && theirs.has(k.key.toString('base64url')))
        throw new ConfigError(
          `${setting} and ${otherSetting} share the key ${k.kid}: give each purpose its own key`,
        );
    }
  }
  return keys;
}

/**
 * Reads the configuration. Secrets are validated only when first used, so a process that does not
 * need one (the gateway needs no signing key) does not require it.
 */
export function loadConfig(env: Env = process.env): Config {
  const alg = str(env, 'SIGNING_ALG', 'ES256');
  if (alg !== 'ES256' && alg !== 'EdDSA' && alg !== 'RS256') {
    throw new ConfigError(`SIGNING_ALG must be ES256, EdDSA or RS256, got "${alg}"`);
  }
  const logLevel = str(env, 'LOG_LEVEL', 'log');
  if (!['error', 'warn', 'log', 'debug'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be error, warn, log or debug, got "${logLevel}"`);
  }
  const base = {
    nodeEnv: str(env, 'NODE_ENV', 'development'),
    logLevel: logLevel as Config['logLevel'],
    databaseUrl: str(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/authz'),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    natsServers: str(env, 'NATS_URL', 'nats://127.0.0.1:4222')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    natsUser: env.NATS_USER || undefined,
    natsPassword: env.NATS_PASSWORD || undefined,
    natsToken: env.NATS_TOKEN || undefined,
    natsTlsCaFile: env.NATS_TLS_CA_FILE || undefined,
    natsTlsCertFile: env.NATS_TLS_CERT_FILE || undefined,
    natsTlsKeyFile: env.NATS_TLS_KEY_FILE || undefined,
    subjectPrefix: str(env, 'NATS_SUBJECT_PREFIX', 'authz'),
    eventsStream: str(env, 'EVENTS_STREAM', 'AUTHZ_EVENTS'),
    rpcTimeoutMs: int(env, 'RPC_TIMEOUT_MS', 5000, 100, 60000),
    issuer: checkIssuer(str(env, 'ISSUER', 'http://127.0.0.1:8080')),
    httpHost: str(env, 'HTTP_HOST', '127.0.0.1'),
    httpPort: int(env, 'HTTP_PORT', 8080, 0, 65535),
    adminHttpHost: str(env, 'ADMIN_HTTP_HOST', '127.0.0.1'),
    adminHttpPort: int(env, 'ADMIN_HTTP_PORT', 8070, 0, 65535),
    httpRequestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 30000, 1000, 600000),
    httpHeadersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10000, 1000, 600000),
    httpKeepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 1000, 600000),
    trustProxy: trustProxyOf(env.TRUST_PROXY),
    natsAllowUnauthenticated: bool(env, 'NATS_ALLOW_UNAUTHENTICATED', false),
    privilegedScopes: [...new Set(['admin', ...words(env.PRIVILEGED_SCOPES)])],
    registrationAllowedScopes: env.REGISTRATION_ALLOWED_SCOPES
      ? words(env.REGISTRATION_ALLOWED_SCOPES)
      : null,
    registrationAllowedAudiences: words(env.REGISTRATION_ALLOWED_AUDIENCES),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 65536, 1024, 10 * 1024 * 1024),
    maxParameters: int(env, 'MAX_PARAMETERS', 100, 10, 10000),
    jwksMaxAgeSeconds: int(env, 'JWKS_MAX_AGE_SECONDS', 300, 0, 86400),
    signingAlg: alg,
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 600, 10, 86400),
    grantStateCacheSize: int(env, 'GRANT_STATE_CACHE_SIZE', 5000, 0, 1000000),
    refreshTokenIdleTtlSeconds: int(env, 'REFRESH_TOKEN_IDLE_TTL_SECONDS', 1209600, 60, 365 * 86400),
    refreshTokenAbsoluteTtlSeconds: int(
      env,
      'REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS',
      2592000,
      60,
      MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS,
    ),
    refreshTokenMaxRotations: int(env, 'REFRESH_TOKEN_MAX_ROTATIONS', 10000, 1, 10_000_000),
    clientAuthMaxFailures: int(env, 'CLIENT_AUTH_MAX_FAILURES', 10, 1, 10000),
    clientAuthFailureWindowSeconds: int(env, 'CLIENT_AUTH_FAILURE_WINDOW_SECONDS', 60, 1, 86400),
    openRegistration: bool(env, 'OPEN_REGISTRATION', false),
    initialAccessTokenTtlSeconds: int(env, 'INITIAL_ACCESS_TOKEN_TTL_SECONDS', 86400, 60, 365 * 86400),
    clientSecretTtlSeconds: int(env, 'CLIENT_SECRET_TTL_SECONDS', 0, 0, 10 * 365 * 86400),
    clientAssertionLegacyAudience: bool(env, 'CLIENT_ASSERTION_LEGACY_AUDIENCE', false),
    authorizationCodeTtlSeconds: int(env, 'AUTHORIZATION_CODE_TTL_SECONDS', 60, 1, 600),
    authorizationRequestTtlSeconds: int(env, 'AUTHORIZATION_REQUEST_TTL_SECONDS', 600, 30, 3600),
    loginSessionTtlSeconds: int(env, 'LOGIN_SESSION_TTL_SECONDS', 3600, 60, 30 * 86400),
    loginMaxFailures: int(env, 'LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginFailureWindowSeconds: int(env, 'LOGIN_FAILURE_WINDOW_SECONDS', 900, 1, 86400),
    loginMaxFailuresPerIp: int(env, 'LOGIN_MAX_FAILURES_PER_IP', 20, 1, 100000),
    loginPasswordChecksConcurrency: int(env, 'LOGIN_PASSWORD_CHECKS_CONCURRENCY', 2, 1, 64),
    loginPasswordChecksQueue: int(env, 'LOGIN_PASSWORD_CHECKS_QUEUE', 32, 0, 10000),
    opsHost: str(env, 'OPS_HOST', '127.0.0.1'),
    opsPort: env.OPS_PORT ? int(env, 'OPS_PORT', 0, 0, 65535) : undefined,
    opsPortFor(app: string): number {
      return this.opsPort ?? DEFAULT_OPS_PORTS[app] ?? 0;
    },
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 300000),
    tracesExporter: str(env, 'OTEL_TRACES_EXPORTER', 'none') as Config['tracesExporter'],
  };
  const caps = lifetimeCaps(env, base);
  const keyring = signingKeySchedule(env, { ...base, ...caps });
  const adminAudience = str(env, 'ADMIN_AUDIENCE', `${base.issuer}/admin`);
  if (base.httpHeadersTimeoutMs > base.httpRequestTimeoutMs)
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  const outbound = outboundSettings(env, base.rpcTimeoutMs);
  if (!['none', 'otlp', 'console'].includes(base.tracesExporter)) {
    throw new ConfigError(`OTEL_TRACES_EXPORTER must be none, otlp or console, got "${base.tracesExporter}"`);
  }
  if (Boolean(base.natsTlsCertFile) !== Boolean(base.natsTlsKeyFile)) {
    throw new ConfigError('NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together');
  }
  if (!/^[A-Za-z0-9_-]+$/.test(base.subjectPrefix)) {
    throw new ConfigError('NATS_SUBJECT_PREFIX may hold only letters, digits, _ and -');
  }
  const secrets: Record<string, () => unknown> = {
    adminToken: () => {
      const t = env.ADMIN_TOKEN || undefined;
      if (t !== undefined && t.length < 32)
        throw new ConfigError('ADMIN_TOKEN must be at least 32 characters');
      return t;
    },
    secretHashKeys: () => keysetOf(env, 'secretHashKeys'),
    cookieSealingKeys: () => keysetOf(env, 'cookieSealingKeys'),
    csrfKeys: () => keysetOf(env, 'csrfKeys'),
    keyEncryptionKey: () => key32(env, 'KEY_ENCRYPTION_KEY', 'encrypts private signing keys at rest'),
    previousKeyEncryptionKeys: () =>
      env.KEY_ENCRYPTION_KEY_PREVIOUS
        ? [key32(env, 'KEY_ENCRYPTION_KEY_PREVIOUS', 'the key-encryption key being replaced')]
        : [],
  };
  const config = { ...base, ...caps, ...keyring, ...outbound, adminAudience } as Record<string, unknown>;
  for (const name of lazySecrets) {
    let cached: unknown;
    Object.defineProperty(config, name, {
      enumerable: false,
      get: () => (cached ??= secrets[name]!()),
    });
  }
  return config as unknown as Config;
}

function outboundSettings(env: Env, rpcTimeoutMs: number): OutboundConfig {
  let outboundAllow: OutboundAllowList;
  try {
    outboundAllow = parseOutboundAllowList(env.OUTBOUND_ALLOW ?? '');
  } catch (err) {
    if (err instanceof OutboundAllowListError) throw new ConfigError(`OUTBOUND_ALLOW: ${err.message}`);
    throw err;
  }
  const fallback = Math.min(2500, Math.floor(rpcTimeoutMs / 2));
  const outboundTimeoutMs = int(env, 'OUTBOUND_TIMEOUT_MS', fallback, 100, 60000);
  if (outboundTimeoutMs >= rpcTimeoutMs) {
    throw new ConfigError(`OUTBOUND_TIMEOUT_MS must be below RPC_TIMEOUT_MS (${rpcTimeoutMs})`);
  }
  return {
    outboundAllow,
    outboundTimeoutMs,
    outboundMaxBytes: int(env, 'OUTBOUND_MAX_BYTES', 65536, 1024, 10 * 1024 * 1024),
  };
}

/** The server's caps on token lifetimes: never below the defaults a client without its own value gets. */
function lifetimeCaps(
  env: Env,
  base: { accessTokenTtlSeconds: number; refreshTokenAbsoluteTtlSeconds: number },
): Pick<SigningKeyConfig, 'accessTokenMaxTtlSeconds' | 'refreshTokenMaxTtlSeconds'> {
  return {
    accessTokenMaxTtlSeconds: int(
      env,
      'ACCESS_TOKEN_MAX_TTL_SECONDS',
      base.accessTokenTtlSeconds,
      base.accessTokenTtlSeconds,
      MAX_CLIENT_ACCESS_TOKEN_TTL_SECONDS,
    ),
    refreshTokenMaxTtlSeconds: int(
      env,
      'REFRESH_TOKEN_MAX_TTL_SECONDS',
      base.refreshTokenAbsoluteTtlSeconds,
      base.refreshTokenAbsoluteTtlSeconds,
      MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS,
    ),
  };
}

function signingKeySchedule(
  env: Env,
  base: { jwksMaxAgeSeconds: number; accessTokenMaxTtlSeconds: number },
): Pick<
  SigningKeyConfig,
  'signingKeyRotationSeconds' | 'signingKeyRetentionSeconds' | 'keyringRefreshSeconds'
> {
  const keyringRefreshSeconds = int(env, 'KEYRING_REFRESH_SECONDS', 30, 1, 3600);
  const signingKeyRotationSeconds = int(env, 'SIGNING_KEY_ROTATION_SECONDS', 30 * 86400, 0, 10 * 365 * 86400);
  // Decision 14 and checklist JWKS-06: the key must be pre-published for 2 × max-age within its period.
  if (signingKeyRotationSeconds !== 0 && signingKeyRotationSeconds <= 2 * base.jwksMaxAgeSeconds) {
    throw new ConfigError(
      'SIGNING_KEY_ROTATION_SECONDS must be 0 or greater than 2 × JWKS_MAX_AGE_SECONDS ' +
        `(${2 * base.jwksMaxAgeSeconds})`,
    );
  }
  // Decision 14: no access token outlives ACCESS_TOKEN_MAX_TTL_SECONDS, so neither need its key.
  const minimumRetention = base.accessTokenMaxTtlSeconds + keyringRefreshSeconds;
  const signingKeyRetentionSeconds = int(
    env,
    'SIGNING_KEY_RETENTION_SECONDS',
    minimumRetention,
    minimumRetention,
    10 * 365 * 86400,
  );
  return { signingKeyRotationSeconds, signingKeyRetentionSeconds, keyringRefreshSeconds };
}

/** The example resource server (apps/resource-server): a protected API for this issuer's tokens. */
export interface ResourceServerConfig {
  /** ISSUER: the authorization server whose tokens are accepted. */
  issuer: string;
  /** RESOURCE_SERVER_HOST, RESOURCE_SERVER_PORT: where it listens. Default 127.0.0.1, 8090. */
  host: string;
  port: number;
  /**
   * RESOURCE_SERVER_AUDIENCE: the `aud` its access tokens must carry (RFC 9068 §4; clients list it
   * in their `audience`). Default http://127.0.0.1:8090.
   */
  audience: string;
  /**
   * RESOURCE_SERVER_CLIENT_ID, RESOURCE_SERVER_CLIENT_SECRET: its own credentials for RFC 7662
   * introspection on revocation-sensitive endpoints. The client_id defaults to the audience (the
   * authorization server lets a client introspect access tokens whose audience names it).
   */
  clientId: string;
  clientSecret: string | undefined;
}

export function loadResourceServerConfig(env: Env = process.env): ResourceServerConfig {
  const audience = str(env, 'RESOURCE_SERVER_AUDIENCE', 'http://127.0.0.1:8090');
  return {
    issuer: checkIssuer(str(env, 'ISSUER', 'http://127.0.0.1:8080')),
    host: str(env, 'RESOURCE_SERVER_HOST', '127.0.0.1'),
    port: int(env, 'RESOURCE_SERVER_PORT', 8090, 0, 65535),
    audience,
    clientId: str(env, 'RESOURCE_SERVER_CLIENT_ID', audience),
    clientSecret: env.RESOURCE_SERVER_CLIENT_SECRET || undefined,
  };
}

/** The example client (apps/example-client): the "Example App" of the authorization code flow. */
export interface ExampleClientConfig {
  /** ISSUER: the authorization server it signs users in with. */
  issuer: string;
  /** EXAMPLE_CLIENT_HOST, EXAMPLE_CLIENT_PORT: where it listens. Default 127.0.0.1, 8081. */
  host: string;
  port: number;
  /** EXAMPLE_CLIENT_URL: its public origin; the redirect URI is `<url>/callback`. Default http://127.0.0.1:8081. */
  url: string;
  /** EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET: its registration (client_secret_basic). Default id `example-app`. */
  clientId: string;
  clientSecret: string | undefined;
  /** EXAMPLE_CLIENT_SCOPE: the scope it asks for. Default `email profile`. */
  scope: string;
  /** RESOURCE_SERVER_URL: the API it calls. Default http://127.0.0.1:8090. */
  resourceServerUrl: string;
}

export function loadExampleClientConfig(env: Env = process.env): ExampleClientConfig {
  const port = int(env, 'EXAMPLE_CLIENT_PORT', 8081, 0, 65535);
  return {
    issuer: checkIssuer(str(env, 'ISSUER', 'http://127.0.0.1:8080')),
    host: str(env, 'EXAMPLE_CLIENT_HOST', '127.0.0.1'),
    port,
    url: str(env, 'EXAMPLE_CLIENT_URL', `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    clientId: str(env, 'EXAMPLE_CLIENT_ID', 'example-app'),
    clientSecret: env.EXAMPLE_CLIENT_SECRET || undefined,
    scope: str(env, 'EXAMPLE_CLIENT_SCOPE', 'email profile'),
    resourceServerUrl: str(env, 'RESOURCE_SERVER_URL', 'http://127.0.0.1:8090').replace(/\/+$/, ''),
  };
}
