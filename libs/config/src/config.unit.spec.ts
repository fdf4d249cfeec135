import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from './config.js';

const key32 = (fill: number) => Buffer.alloc(32, fill).toString('base64url');
const ADMIN_TOKEN = 'a'.repeat(32);

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).name).toBe('ConfigError');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('configuration defaults (docs/configuration.md)', () => {
  const config = loadConfig({});

  it('uses the documented defaults for an empty environment', () => {
    expect({ ...config }).toEqual({
      nodeEnv: 'development',
      logLevel: 'log',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/authz',
      databasePoolSize: 10,
      natsServers: ['nats://127.0.0.1:4222'],
      natsUser: undefined,
      natsPassword: undefined,
      natsToken: undefined,
      natsTlsCaFile: undefined,
      natsTlsCertFile: undefined,
      natsTlsKeyFile: undefined,
      subjectPrefix: 'authz',
      eventsStream: 'AUTHZ_EVENTS',
      rpcTimeoutMs: 5000,
      issuer: 'http://127.0.0.1:8080',
      httpHost: '127.0.0.1',
      httpPort: 8080,
      adminHttpHost: '127.0.0.1',
      adminHttpPort: 8070,
      adminAudience: 'http://127.0.0.1:8080/admin',
      httpRequestTimeoutMs: 30000,
      httpHeadersTimeoutMs: 10000,
      httpKeepAliveTimeoutMs: 5000,
      trustProxy: false,
      natsAllowUnauthenticated: false,
      privilegedScopes: ['admin'],
      registrationAllowedScopes: null,
      registrationAllowedAudiences: [],
      maxBodyBytes: 65536,
      maxParameters: 100,
      jwksMaxAgeSeconds: 300,
      signingAlg: 'ES256',
      accessTokenTtlSeconds: 600,
      accessTokenMaxTtlSeconds: 600,
      idTokenTtlSeconds: 3600,
      grantStateCacheSize: 5000,
      signingKeyRotationSeconds: 2592000,
      signingKeyRetentionSeconds: 600 + 30,
      keyringRefreshSeconds: 30,
      refreshTokenIdleTtlSeconds: 1209600,
      refreshTokenAbsoluteTtlSeconds: 2592000,
      refreshTokenMaxTtlSeconds: 2592000,
      refreshTokenMaxRotations: 10000,
      clientAuthMaxFailures: 10,
      clientAuthFailureWindowSeconds: 60,
      openRegistration: false,
      initialAccessTokenTtlSeconds: 86400,
      clientSecretTtlSeconds: 0,
      clientAssertionLegacyAudience: false,
      outboundAllow: { hosts: new Set(), ranges: [] },
      outboundTimeoutMs: 2500,
      outboundMaxBytes: 65536,
      authorizationCodeTtlSeconds: 60,
      brandProductName: '127.0.0.1:8080',
      brandLogoUrl: undefined,
      brandPrimaryColor: '#1f6feb',
      authorizationRequestTtlSeconds: 600,
      backchannelLogoutMaxAttempts: 8,
      backchannelLogoutRetryBaseMs: 10000,
      loginFailureWindowSeconds: 900,
      loginMaxFailures: 5,
      loginMaxFailuresPerIp: 20,
      loginPasswordChecksConcurrency: 2,
      loginPasswordChecksQueue: 32,
      loginSessionTtlSeconds: 3600,
      opsHost: '127.0.0.1',
      opsPort: undefined,
      opsPortFor: expect.any(Function),
      shutdownTimeoutMs: 10000,
      tracesExporter: 'none',
      auditCheckpointIntervalMs: 60000,
      auditCheckpointDir: undefined,
      retentionArchiveDir: undefined,
      retentionAccessTokenDays: 90,
      retentionGrantDays: 90,
      retentionSessionDays: 30,
      retentionUserDays: 30,
      retentionDeleteBatch: 1000,
      retentionDutyCycle: 50,
      retentionMaxArchives: 0,
      retentionVerifyKeys: [],
    });
    expect(config.auditCheckpointSigningKey).toBeUndefined();
  });

  it('reads AUDIT_CHECKPOINT_SIGNING_KEY as a private Ed25519 or P-256 key only, when first used (CKPT-08)', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    expect(loadConfig({ AUDIT_CHECKPOINT_SIGNING_KEY: jwk }).auditCheckpointSigningKey).toBe(jwk);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(loadConfig({ AUDIT_CHECKPOINT_SIGNING_KEY: pem }).auditCheckpointSigningKey).toBe(pem.trim());
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
    const { d: _, ...publicJwk } = privateKey.export({ format: 'jwk' });
    for (const bad of ['not a key', JSON.stringify(rsa), JSON.stringify(publicJwk)]) {
      const config = loadConfig({ AUDIT_CHECKPOINT_SIGNING_KEY: bad });
      expect(configError(() => config.auditCheckpointSigningKey).message).toMatch(
        /AUDIT_CHECKPOINT_SIGNING_KEY/,
      );
    }
    expect(() => loadConfig({ AUDIT_CHECKPOINT_INTERVAL_MS: '10' })).toThrow(/AUDIT_CHECKPOINT_INTERVAL_MS/);
  });

  it('RET-C01 reads the retention settings; the manifest signing key only when used, and only a private Ed25519 JWK', () => {
    const config = loadConfig({ RETENTION_ARCHIVE_DIR: '/var/archive', RETENTION_GRANT_DAYS: '7' });
    expect(config.retentionArchiveDir).toBe('/var/archive');
    expect(config.retentionGrantDays).toBe(7);
    expect(() => config.retentionSigningKey).toThrow(ConfigError);
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: 'eA', d: 'ZA' };
    expect(loadConfig({ RETENTION_SIGNING_KEY: JSON.stringify(jwk) }).retentionSigningKey).toEqual(jwk);
    const { d: _d, ...publicOnly } = jwk;
    expect(
      () => loadConfig({ RETENTION_SIGNING_KEY: JSON.stringify(publicOnly) }).retentionSigningKey,
    ).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_VERIFY_KEYS: '{}' })).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_SESSION_DAYS: 'a month' })).toThrow(ConfigError);
  });

  it('reads CLIENT_SECRET_TTL_SECONDS: 0 (never) by default, up to ten years (CAUTH-16)', () => {
    expect(loadConfig({ CLIENT_SECRET_TTL_SECONDS: '7776000' }).clientSecretTtlSeconds).toBe(7776000);
    expect(loadConfig({ CLIENT_SECRET_TTL_SECONDS: '0' }).clientSecretTtlSeconds).toBe(0);
    for (const bad of ['-1', '1.5', 'ninety days', String(10 * 365 * 86400 + 1)])
      expect(() => loadConfig({ CLIENT_SECRET_TTL_SECONDS: bad })).toThrow(
        /CLIENT_SECRET_TTL_SECONDS must be/,
      );
  });

  it('reads the outbound guard settings: an allow-list of addresses, ranges and hosts; time and size limits', () => {
    const c = loadConfig({
      OUTBOUND_ALLOW: '127.0.0.1, 10.0.0.0/8 jwks.internal.example',
      OUTBOUND_MAX_BYTES: '4096',
    });
    expect(c.outboundAllow.hosts).toEqual(new Set(['jwks.internal.example']));
    expect(c.outboundAllow.ranges.map(([ip, bits]) => `${ip.toString()}/${bits}`)).toEqual([
      '127.0.0.1/32',
      '10.0.0.0/8',
    ]);
    expect(c.outboundMaxBytes).toBe(4096);
    expect(configError(() => loadConfig({ OUTBOUND_ALLOW: '10.0.0.0/40' })).message).toMatch(
      /OUTBOUND_ALLOW/,
    );
    expect(configError(() => loadConfig({ OUTBOUND_MAX_BYTES: '10' })).message).toMatch(/OUTBOUND_MAX_BYTES/);
  });

  it('keeps an outbound fetch shorter than the RPC timeout, so a slow URL is a 401 and not a 503', () => {
    expect(loadConfig({ RPC_TIMEOUT_MS: '2000' }).outboundTimeoutMs).toBe(1000);
    expect(loadConfig({ RPC_TIMEOUT_MS: '3000', OUTBOUND_TIMEOUT_MS: '1000' }).outboundTimeoutMs).toBe(1000);
    expect(
      configError(() => loadConfig({ RPC_TIMEOUT_MS: '2000', OUTBOUND_TIMEOUT_MS: '2000' })).message,
    ).toMatch(/OUTBOUND_TIMEOUT_MS must be below RPC_TIMEOUT_MS/);
  });

  it('reads CLIENT_ASSERTION_LEGACY_AUDIENCE as true or false only', () => {
    expect(loadConfig({ CLIENT_ASSERTION_LEGACY_AUDIENCE: 'true' }).clientAssertionLegacyAudience).toBe(true);
    expect(() => loadConfig({ CLIENT_ASSERTION_LEGACY_AUDIENCE: '1' })).toThrow(
      /CLIENT_ASSERTION_LEGACY_AUDIENCE/,
    );
  });

  it('reads OPEN_REGISTRATION as true or false only', () => {
    expect(loadConfig({ OPEN_REGISTRATION: 'true' }).openRegistration).toBe(true);
    expect(loadConfig({ OPEN_REGISTRATION: 'false' }).openRegistration).toBe(false);
    expect(() => loadConfig({ OPEN_REGISTRATION: 'yes' })).toThrow(/OPEN_REGISTRATION must be true or false/);
  });

  it('bounds the client-authentication throttle settings', () => {
    expect(loadConfig({ CLIENT_AUTH_MAX_FAILURES: '3' }).clientAuthMaxFailures).toBe(3);
    expect(() => loadConfig({ CLIENT_AUTH_MAX_FAILURES: '0' })).toThrow(/CLIENT_AUTH_MAX_FAILURES/);
    expect(() => loadConfig({ CLIENT_AUTH_FAILURE_WINDOW_SECONDS: 'x' })).toThrow(
      /CLIENT_AUTH_FAILURE_WINDOW_SECONDS/,
    );
  });

  it('gives each app its own operations port unless OPS_PORT says otherwise; 0 turns it off', () => {
    expect(
      ['gateway', 'client-registry', 'consent', 'token', 'introspection'].map((a) => config.opsPortFor(a)),
    ).toEqual([9400, 9401, 9402, 9403, 9404]);
    expect(loadConfig({ OPS_PORT: '9100' }).opsPortFor('token')).toBe(9100);
    expect(loadConfig({ OPS_PORT: '0' }).opsPortFor('gateway')).toBe(0);
    expect(configError(() => loadConfig({ OPS_PORT: '70000' })).message).toMatch(/OPS_PORT/);
    expect(configError(() => loadConfig({ NATS_TLS_CERT_FILE: '/c.pem' })).message).toMatch(
      /NATS_TLS_KEY_FILE/,
    );
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).tracesExporter).toBe('otlp');
    expect(configError(() => loadConfig({ OTEL_TRACES_EXPORTER: 'jaeger' })).message).toMatch(
      /OTEL_TRACES_EXPORTER/,
    );
    expect(configError(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: 'soon' })).message).toMatch(
      /SHUTDOWN_TIMEOUT_MS/,
    );
  });

  it('reports every malformed variable at once, one line each naming it', () => {
    const err = configError(() =>
      loadConfig({
        HTTP_PORT: 'abc',
        SIGNING_ALG: 'HS256',
        BRAND_PRIMARY_COLOR: 'red',
        ISSUER: 'https://as.test/?',
      }),
    );
    expect(err.problems).toEqual([
      'ISSUER must not have a query or fragment',
      'HTTP_PORT must be an integer between 0 and 65535, got "abc"',
      'SIGNING_ALG must be ES256, EdDSA or RS256, got "HS256"',
      'BRAND_PRIMARY_COLOR must be a colour #rrggbb, got "red"',
    ]);
    expect(err.message).toBe(err.problems.join('\n'));
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ HTTP_PORT: '', ISSUER: '', LOG_LEVEL: '', NATS_USER: '' })).toMatchObject({
      httpPort: 8080,
      issuer: 'http://127.0.0.1:8080',
      logLevel: 'log',
      natsUser: undefined,
    });
  });

  it('does not read process.env when an environment is given', () => {
    const saved = process.env.HTTP_PORT;
    process.env.HTTP_PORT = '9999';
    try {
      expect(loadConfig({}).httpPort).toBe(8080);
    } finally {
      if (saved === undefined) delete process.env.HTTP_PORT;
      else process.env.HTTP_PORT = saved;
    }
  });

  it('reads the values it is given', () => {
    const c = loadConfig({
      HTTP_PORT: '0',
      MAX_PARAMETERS: '10',
      ACCESS_TOKEN_TTL_SECONDS: '86400',
      REFRESH_TOKEN_IDLE_TTL_SECONDS: '3600',
      REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: '86400',
      SIGNING_ALG: 'EdDSA',
      LOG_LEVEL: 'debug',
      NATS_URL: 'nats://a:4222, nats://b:4222,',
      NATS_SUBJECT_PREFIX: 'test_run-1',
    });
    expect(c).toMatchObject({
      httpPort: 0,
      maxParameters: 10,
      accessTokenTtlSeconds: 86400,
      refreshTokenIdleTtlSeconds: 3600,
      refreshTokenAbsoluteTtlSeconds: 86400,
      signingAlg: 'EdDSA',
      logLevel: 'debug',
      natsServers: ['nats://a:4222', 'nats://b:4222'],
      subjectPrefix: 'test_run-1',
    });
  });
});

describe('integer settings', () => {
  it.each([
    ['HTTP_PORT', 'abc'],
    ['HTTP_PORT', '80.5'],
    ['HTTP_PORT', '65536'],
    ['HTTP_PORT', '-1'],
    ['HTTP_PORT', '8080abc'],
    ['HTTP_PORT', 'NaN'],
    ['HTTP_PORT', 'Infinity'],
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_POOL_SIZE', '201'],
    ['RPC_TIMEOUT_MS', '99'],
    ['MAX_BODY_BYTES', '1023'],
    ['MAX_PARAMETERS', '9'],
    ['MAX_PARAMETERS', '10001'],
    ['JWKS_MAX_AGE_SECONDS', '86401'],
    ['ACCESS_TOKEN_TTL_SECONDS', '9'],
    ['ACCESS_TOKEN_TTL_SECONDS', '86401'],
    ['ACCESS_TOKEN_MAX_TTL_SECONDS', '599'],
    ['ACCESS_TOKEN_MAX_TTL_SECONDS', '86401'],
    ['REFRESH_TOKEN_MAX_TTL_SECONDS', '2591999'],
    ['REFRESH_TOKEN_MAX_TTL_SECONDS', String(365 * 86400 + 1)],
  ])('%s=%p is a ConfigError naming the key', (key, value) => {
    const err = configError(() => loadConfig({ [key]: value }));
    expect(err.message).toContain(key);
    expect(err.message).toContain(`"${value}"`);
  });

  it.each([
    ['DATABASE_POOL_SIZE', '1', 'databasePoolSize', 1],
    ['DATABASE_POOL_SIZE', '200', 'databasePoolSize', 200],
    ['HTTP_PORT', '65535', 'httpPort', 65535],
    ['MAX_BODY_BYTES', '1024', 'maxBodyBytes', 1024],
    ['JWKS_MAX_AGE_SECONDS', '0', 'jwksMaxAgeSeconds', 0],
  ])('%s=%p is accepted at the bound', (key, value, field, expected) => {
    expect((loadConfig({ [key]: value }) as unknown as Record<string, unknown>)[field]).toBe(expected);
  });
});

describe('signing-key schedule (checklist decision 14, JWKS-06)', () => {
  it('SIGNING_KEY_ROTATION_SECONDS=0 turns scheduled rotation off', () => {
    expect(loadConfig({ SIGNING_KEY_ROTATION_SECONDS: '0' }).signingKeyRotationSeconds).toBe(0);
  });

  it('refuses a rotation period not above 2 × JWKS_MAX_AGE_SECONDS', () => {
    const err = configError(() =>
      loadConfig({ SIGNING_KEY_ROTATION_SECONDS: '600', JWKS_MAX_AGE_SECONDS: '300' }),
    );
    expect(err.message).toContain('SIGNING_KEY_ROTATION_SECONDS');
    expect(
      loadConfig({ SIGNING_KEY_ROTATION_SECONDS: '601', JWKS_MAX_AGE_SECONDS: '300' })
        .signingKeyRotationSeconds,
    ).toBe(601);
  });

  it('derives retention from the longest access-token lifetime (the cap) and the keyring refresh', () => {
    expect(
      loadConfig({ ACCESS_TOKEN_TTL_SECONDS: '86400', KEYRING_REFRESH_SECONDS: '5' })
        .signingKeyRetentionSeconds,
    ).toBe(86405);
    expect(loadConfig({ KEYRING_REFRESH_SECONDS: '1' }).signingKeyRetentionSeconds).toBe(601);
    expect(
      loadConfig({ ACCESS_TOKEN_MAX_TTL_SECONDS: '3600', KEYRING_REFRESH_SECONDS: '1' })
        .signingKeyRetentionSeconds,
    ).toBe(3601);
  });

  it('refuses a retention shorter than ACCESS_TOKEN_MAX_TTL_SECONDS + KEYRING_REFRESH_SECONDS', () => {
    const env = { ACCESS_TOKEN_TTL_SECONDS: '60', KEYRING_REFRESH_SECONDS: '2' };
    expect(configError(() => loadConfig({ ...env, SIGNING_KEY_RETENTION_SECONDS: '61' })).message).toContain(
      'SIGNING_KEY_RETENTION_SECONDS',
    );
    expect(loadConfig({ ...env, SIGNING_KEY_RETENTION_SECONDS: '62' }).signingKeyRetentionSeconds).toBe(62);
    const capped = { ...env, ACCESS_TOKEN_MAX_TTL_SECONDS: '120' };
    expect(
      configError(() => loadConfig({ ...capped, SIGNING_KEY_RETENTION_SECONDS: '121' })).message,
    ).toContain('SIGNING_KEY_RETENTION_SECONDS');
  });
});

describe('token lifetime caps (issue 20: metadata lowers, never raises)', () => {
  it('default to the default lifetimes, so that by default a client may only lower them', () => {
    const c = loadConfig({ ACCESS_TOKEN_TTL_SECONDS: '300', REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: '86400' });
    expect(c.accessTokenMaxTtlSeconds).toBe(300);
    expect(c.refreshTokenMaxTtlSeconds).toBe(86400);
  });

  it('may be raised for chosen clients, never below the defaults', () => {
    const c = loadConfig({ ACCESS_TOKEN_MAX_TTL_SECONDS: '3600', REFRESH_TOKEN_MAX_TTL_SECONDS: '7776000' });
    expect(c.accessTokenMaxTtlSeconds).toBe(3600);
    expect(c.refreshTokenMaxTtlSeconds).toBe(7776000);
    const err = configError(() =>
      loadConfig({ ACCESS_TOKEN_TTL_SECONDS: '900', ACCESS_TOKEN_MAX_TTL_SECONDS: '600' }),
    );
    expect(err.message).toContain('ACCESS_TOKEN_MAX_TTL_SECONDS');
  });
});

describe('enumerated settings', () => {
  it.each(['HS256', 'none', 'es256', 'PS256'])('SIGNING_ALG=%p is a ConfigError', (alg) => {
    expect(configError(() => loadConfig({ SIGNING_ALG: alg })).message).toContain('SIGNING_ALG');
  });

  it.each(['info', 'verbose', 'LOG'])('LOG_LEVEL=%p is a ConfigError', (level) => {
    expect(configError(() => loadConfig({ LOG_LEVEL: level })).message).toContain('LOG_LEVEL');
  });

  it.each(['authz.events', 'a b', 'a*', 'a>', '...'])(
    'NATS_SUBJECT_PREFIX=%p (a subject wildcard or separator) is a ConfigError',
    (prefix) => {
      configError(() => loadConfig({ NATS_SUBJECT_PREFIX: prefix }));
    },
  );
});

describe('issuer identifier (RFC 8414 §2; checklist META-02)', () => {
  it.each([
    ['https://as.test', 'https://as.test'],
    ['https://as.test/', 'https://as.test'],
    ['https://as.test/tenant-a/', 'https://as.test/tenant-a'],
    ['https://as.test:8443', 'https://as.test:8443'],
  ])('ISSUER=%p is used as %p', (raw, expected) => {
    expect(loadConfig({ ISSUER: raw }).issuer).toBe(expected);
  });

  it.each([
    ['a query', 'https://as.test/?tenant=a'],
    ['an empty query', 'https://as.test/?'],
    ['a fragment', 'https://as.test/#x'],
    ['an empty fragment', 'https://as.test#'],
  ])('refuses an issuer with %s', (_name, issuer) => {
    expect(configError(() => loadConfig({ ISSUER: issuer })).message).toBe(
      'ISSUER must not have a query or fragment',
    );
  });

  it.each(['as.test', '/relative', 'not a url'])('refuses a relative or malformed issuer %p', (issuer) => {
    expect(configError(() => loadConfig({ ISSUER: issuer })).message).toContain(
      'ISSUER must be an absolute URL',
    );
  });
});

describe('secrets are validated when first read', () => {
  it('a process that needs no secret starts without any', () => {
    expect(() => loadConfig({})).not.toThrow();
  });

  it('TRUST_PROXY takes a hop count or addresses, never true (every hop)', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.1',
    ]);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY=true/);
    expect(() => loadConfig({ TRUST_PROXY: 'everything' })).toThrow(/TRUST_PROXY must be/);
  });

  it('PRIVILEGED_SCOPES always holds admin', () => {
    expect(loadConfig({ PRIVILEGED_SCOPES: 'billing ops' }).privilegedScopes).toEqual([
      'admin',
      'billing',
      'ops',
    ]);
  });

  it('ADMIN_TOKEN is optional: unset, the bootstrap credential is off', () => {
    expect(loadConfig({}).adminToken).toBeUndefined();
  });

  it('ADMIN_TOKEN must have at least 32 characters', () => {
    expect(configError(() => loadConfig({ ADMIN_TOKEN: 'a'.repeat(31) }).adminToken).message).toContain(
      'at least 32',
    );
    expect(loadConfig({ ADMIN_TOKEN }).adminToken).toBe(ADMIN_TOKEN);
  });

  it('reads a 32-byte KEY_ENCRYPTION_KEY', () => {
    expect(loadConfig({ KEY_ENCRYPTION_KEY: key32(2) }).keyEncryptionKey).toEqual(Buffer.alloc(32, 2));
  });

  describe('keys per purpose (SECRET_HASH_KEYS, COOKIE_SEALING_KEYS, CSRF_KEYS)', () => {
    it('reads each setting as its own keyset, current first', () => {
      const config = loadConfig({
        SECRET_HASH_KEYS: `h2:${key32(2)},h1:${key32(1)}`,
        COOKIE_SEALING_KEYS: `c1:${key32(3)}`,
        CSRF_KEYS: `x1:${key32(4)}`,
      });
      expect(config.secretHashKeys.kids).toEqual(['h2', 'h1']);
      expect(config.secretHashKeys.current.key).toEqual(Buffer.alloc(32, 2));
      expect(config.cookieSealingKeys.current).toEqual({ kid: 'c1', key: Buffer.alloc(32, 3) });
      expect(config.csrfKeys.current).toEqual({ kid: 'x1', key: Buffer.alloc(32, 4) });
    });

    it('unset, each purpose keeps the legacy SECRET_PEPPER as its key p0 (an installation that changes nothing)', () => {
      const config = loadConfig({ SECRET_PEPPER: key32(1) });
      for (const keys of [config.secretHashKeys, config.cookieSealingKeys, config.csrfKeys])
        expect(keys.current).toEqual({ kid: 'p0', key: Buffer.alloc(32, 1) });
    });

    it('lists the legacy pepper as p0 beside new keys, only where it is named', () => {
      const config = loadConfig({
        SECRET_PEPPER: key32(1),
        SECRET_HASH_KEYS: `h1:${key32(2)},p0`,
        COOKIE_SEALING_KEYS: `c1:${key32(3)}`,
      });
      expect(config.secretHashKeys.kids).toEqual(['h1', 'p0']);
      expect(config.cookieSealingKeys.kids).toEqual(['c1']);
    });

    it.each([
      [{}, 'SECRET_HASH_KEYS is not set (nor the legacy SECRET_PEPPER)'],
      [{ SECRET_HASH_KEYS: `h1:${key32(1)},p0` }, 'names p0, the legacy SECRET_PEPPER, which is not set'],
      [{ SECRET_HASH_KEYS: 'h1:short' }, 'the key h1 must be 32 bytes, base64url'],
      [{ SECRET_HASH_KEYS: `h1:${key32(1)},p0`, SECRET_PEPPER: 'short' }, 'SECRET_PEPPER must be 32 bytes'],
      [
        { SECRET_HASH_KEYS: `h1:${key32(1)}`, CSRF_KEYS: `x1:${key32(1)}` },
        'SECRET_HASH_KEYS and CSRF_KEYS share the key h1: give each purpose its own key',
      ],
    ])('%j throws when read, not at load: %s', (env, message) => {
      const config = loadConfig(env as Record<string, string>);
      expect(configError(() => config.secretHashKeys).message).toContain(message);
    });

    it('a pepper that no setting names is not read', () => {
      const config = loadConfig({ SECRET_HASH_KEYS: `h1:${key32(1)}`, SECRET_PEPPER: 'short' });
      expect(config.secretHashKeys.kids).toEqual(['h1']);
    });

    it('a process that does not use a keyset does not need its setting', () => {
      const config = loadConfig({ SECRET_HASH_KEYS: `h1:${key32(1)}` });
      expect(config.secretHashKeys.kids).toEqual(['h1']);
      expect(configError(() => config.cookieSealingKeys).message).toContain('COOKIE_SEALING_KEYS is not set');
    });
  });

  it('KEY_ENCRYPTION_KEY_PREVIOUS is optional, 32 bytes when set, and never serialised', () => {
    expect(loadConfig({}).previousKeyEncryptionKeys).toEqual([]);
    const config = loadConfig({ KEY_ENCRYPTION_KEY_PREVIOUS: key32(6) });
    expect(config.previousKeyEncryptionKeys).toEqual([Buffer.alloc(32, 6)]);
    expect(JSON.stringify(config)).not.toContain('previousKeyEncryptionKeys');
    const short = loadConfig({ KEY_ENCRYPTION_KEY_PREVIOUS: Buffer.alloc(16).toString('base64url') });
    expect(configError(() => short.previousKeyEncryptionKeys).message).toContain(
      'KEY_ENCRYPTION_KEY_PREVIOUS must be 32 bytes',
    );
  });

  it('a missing KEY_ENCRYPTION_KEY throws only when read', () => {
    const config = loadConfig({ SECRET_HASH_KEYS: `h1:${key32(1)}` });
    expect(config.secretHashKeys.current.key).toHaveLength(32);
    expect(configError(() => config.keyEncryptionKey).message).toContain('KEY_ENCRYPTION_KEY is not set');
  });

  it('keeps failing on every read until fixed, rather than caching a failure as a value', () => {
    const config = loadConfig({});
    configError(() => config.secretHashKeys);
    configError(() => config.secretHashKeys);
  });

  it('returns the same value on every read', () => {
    const config = loadConfig({ SECRET_HASH_KEYS: `h1:${key32(3)}` });
    expect(config.secretHashKeys).toBe(config.secretHashKeys);
  });

  it('never serialises a secret (logging the config is safe)', () => {
    const config = loadConfig({
      ADMIN_TOKEN,
      SECRET_PEPPER: key32(4),
      SECRET_HASH_KEYS: `h1:${key32(6)},p0`,
      COOKIE_SEALING_KEYS: `c1:${key32(7)}`,
      CSRF_KEYS: `x1:${key32(8)}`,
      KEY_ENCRYPTION_KEY: key32(5),
    });
    // Read them first: a cached value must not become visible either.
    void config.adminToken;
    void config.secretHashKeys;
    void config.cookieSealingKeys;
    void config.csrfKeys;
    void config.keyEncryptionKey;
    const text = JSON.stringify(config);
    expect(text).not.toContain(ADMIN_TOKEN);
    expect(text).not.toContain('adminToken');
    for (const name of ['secretHashKeys', 'cookieSealingKeys', 'csrfKeys']) expect(text).not.toContain(name);
    // A keyset logged on its own shows its key ids only.
    expect(JSON.stringify(config.secretHashKeys)).toBe('{"kids":["h1","p0"]}');
    expect(inspect(config.cookieSealingKeys)).toBe('Keyset(c1)');
    for (const fill of [4, 6, 7, 8]) {
      expect(JSON.stringify(config.secretHashKeys) + inspect(config.csrfKeys)).not.toContain(key32(fill));
    }
    expect(text).not.toContain('keyEncryptionKey');
    expect(Object.keys(config)).not.toContain('adminToken');
  });
});

describe('branding of the pages (BRAND_*)', () => {
  it('names the product after the issuer host by default, with the default colour and no logo', () => {
    const config = loadConfig({ ISSUER: 'https://login.example.test:8443' });
    expect(config.brandProductName).toBe('login.example.test:8443');
    expect(config.brandPrimaryColor).toBe('#1f6feb');
    expect(config.brandLogoUrl).toBeUndefined();
  });

  it('reads the name, an https or data: logo and a #rrggbb colour', () => {
    const config = loadConfig({
      BRAND_PRODUCT_NAME: 'Acme Sign-in',
      BRAND_LOGO_URL: 'https://cdn.acme.test/logo.svg',
      BRAND_PRIMARY_COLOR: '#AA3300',
    });
    expect(config).toMatchObject({
      brandProductName: 'Acme Sign-in',
      brandLogoUrl: 'https://cdn.acme.test/logo.svg',
      brandPrimaryColor: '#aa3300',
    });
    expect(loadConfig({ BRAND_LOGO_URL: 'data:image/png;base64,iVBORw0KGgo=' }).brandLogoUrl).toBe(
      'data:image/png;base64,iVBORw0KGgo=',
    );
  });

  it.each([
    ['BRAND_PRIMARY_COLOR', 'red', /BRAND_PRIMARY_COLOR must be a colour #rrggbb/],
    ['BRAND_PRIMARY_COLOR', '#fff', /BRAND_PRIMARY_COLOR/],
    ['BRAND_PRIMARY_COLOR', '#1f6feb;}body{display:none', /BRAND_PRIMARY_COLOR/],
    ['BRAND_LOGO_URL', 'http://cdn.acme.test/logo.png', /https URL/],
    ['BRAND_LOGO_URL', 'javascript:alert(1)', /an https URL/],
    ['BRAND_LOGO_URL', 'not a url', /https or data: URL/],
    ['BRAND_LOGO_URL', 'https://user:pw@cdn.acme.test/logo.png', /without credentials/],
    ['BRAND_LOGO_URL', 'data:text/html;base64,PHNjcmlwdD4=', /data: URL/],
    ['BRAND_PRODUCT_NAME', 'x'.repeat(81), /at most 80/],
    ['BRAND_PRODUCT_NAME', 'Acme\nforged', /control characters/],
  ])('refuses %s=%s', (key, value, message) => {
    expect(configError(() => loadConfig({ [key]: value })).message).toMatch(message);
  });
});
