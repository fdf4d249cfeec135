import { ConfigError, type Env, int, str } from './env.js';
import type { IssuerConfig } from './http-edge.js';

/**
 * The longest access-token lifetime there can be: the bound of a client's access_token_ttl_seconds
 * (libs/domain-client) and of ACCESS_TOKEN_MAX_TTL_SECONDS.
 */
export const MAX_CLIENT_ACCESS_TOKEN_TTL_SECONDS = 86400;
/** The longest refresh-token family: the bound of refresh_token_ttl_seconds and REFRESH_TOKEN_MAX_TTL_SECONDS. */
export const MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS = 365 * 86400;

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
   * ID_TOKEN_TTL_SECONDS: the lifetime of an ID token (OpenID Connect Core §2 `exp`), and how long a
   * retired ID-token signing key stays in the JWKS (plus KEYRING_REFRESH_SECONDS). Default 3600,
   * 60 to 86400.
   */
  idTokenTtlSeconds: number;
  /**
   * GRANT_STATE_CACHE_SIZE: grants the token service keeps folded in memory so that a refresh need
   * not re-read its grant stream (every use is still confirmed by the append). 0 turns it off.
   * Default 5000.
   */
  grantStateCacheSize: number;
  /** JWKS_MAX_AGE_SECONDS: also sets the pre-publication lead of a new key (2 × max-age). */
  jwksMaxAgeSeconds: number;
  /**
   * SIGNING_KEY_ROTATION_SECONDS: how long a key signs before the token service rotates it on its
   * own (a successor is published 2 × JWKS_MAX_AGE_SECONDS before). 0 turns scheduled rotation off.
   * Default 2592000 (30 days). Must exceed 2 × JWKS_MAX_AGE_SECONDS.
   */
  signingKeyRotationSeconds: number;
  /**
   * SIGNING_KEY_RETENTION_SECONDS: how long a retired key stays in the JWKS (until the longest-lived
   * token it signed has expired). Default: the longest access-token lifetime
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

/** The settings of token issuance: the signing algorithm and schedule, lifetimes and caps. */
export type TokenSettings = Omit<
  SigningKeyConfig,
  keyof IssuerConfig | 'keyEncryptionKey' | 'previousKeyEncryptionKeys'
>;

export function readTokenSettings(env: Env, jwksMaxAgeSeconds: number): TokenSettings {
  const signingAlg = str(env, 'SIGNING_ALG', 'ES256');
  if (signingAlg !== 'ES256' && signingAlg !== 'EdDSA' && signingAlg !== 'RS256') {
    throw new ConfigError(`SIGNING_ALG must be ES256, EdDSA or RS256, got "${signingAlg}"`);
  }
  const lifetimes = {
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 600, 10, 86400),
    idTokenTtlSeconds: int(env, 'ID_TOKEN_TTL_SECONDS', 3600, 60, 86400),
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
  };
  const caps = lifetimeCaps(env, lifetimes);
  const schedule = signingKeySchedule(env, { jwksMaxAgeSeconds, ...caps });
  return { signingAlg, jwksMaxAgeSeconds, ...lifetimes, ...caps, ...schedule };
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
  // The next key must be pre-published for 2 × the JWKS max-age within a rotation period.
  if (signingKeyRotationSeconds !== 0 && signingKeyRotationSeconds <= 2 * base.jwksMaxAgeSeconds) {
    throw new ConfigError(
      'SIGNING_KEY_ROTATION_SECONDS must be 0 or greater than 2 × JWKS_MAX_AGE_SECONDS ' +
        `(${2 * base.jwksMaxAgeSeconds})`,
    );
  }
  // No access token outlives ACCESS_TOKEN_MAX_TTL_SECONDS, so neither need its key.
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
