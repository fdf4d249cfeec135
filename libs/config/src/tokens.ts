import type { z } from 'zod';
import { int, oneOf, problem, settings } from './env.js';
import { type IssuerConfig, JWKS_MAX_AGE_SECONDS } from './http-edge.js';
import type { keyEncryptionKeySettings, previousKeyEncryptionKeySettings } from './keys.js';

/**
 * The longest access-token lifetime there can be: the bound of a client's access_token_ttl_seconds
 * (libs/domain-client) and of ACCESS_TOKEN_MAX_TTL_SECONDS.
 */
export const MAX_CLIENT_ACCESS_TOKEN_TTL_SECONDS = 86400;
/** The longest refresh-token family: the bound of refresh_token_ttl_seconds and REFRESH_TOKEN_MAX_TTL_SECONDS. */
export const MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS = 365 * 86400;

/** The settings of token issuance: the signing algorithm and schedule, lifetimes and caps. */
export const tokenSettings = settings({
  /** SIGNING_ALG: ES256 (default), EdDSA or RS256. */
  signingAlg: ['SIGNING_ALG', oneOf(['ES256', 'EdDSA', 'RS256']).default('ES256')],
  /**
   * ACCESS_TOKEN_TTL_SECONDS: the access-token lifetime (RFC 9068 `exp`) of a client that names
   * none; also the most a self-registered client may name. Default 600.
   */
  accessTokenTtlSeconds: [
    'ACCESS_TOKEN_TTL_SECONDS',
    int(10, MAX_CLIENT_ACCESS_TOKEN_TTL_SECONDS).default(600),
  ],
  /**
   * ACCESS_TOKEN_MAX_TTL_SECONDS: the server's cap on every access token's lifetime. A client's
   * access_token_ttl_seconds may lower the lifetime, never raise it past this cap, whoever
   * registered it (RFC 7591 §2: the server may replace metadata values). Default
   * ACCESS_TOKEN_TTL_SECONDS; at least that, at most 86400. Raise it to let an administrator give
   * chosen clients longer-lived tokens.
   */
  accessTokenMaxTtlSeconds: [
    'ACCESS_TOKEN_MAX_TTL_SECONDS',
    int(10, MAX_CLIENT_ACCESS_TOKEN_TTL_SECONDS).optional(),
  ],
  /**
   * ID_TOKEN_TTL_SECONDS: the lifetime of an ID token (OpenID Connect Core §2 `exp`), and how long a
   * retired ID-token signing key stays in the JWKS (plus KEYRING_REFRESH_SECONDS). Default 3600,
   * 60 to 86400.
   */
  idTokenTtlSeconds: ['ID_TOKEN_TTL_SECONDS', int(60, 86400).default(3600)],
  /**
   * GRANT_STATE_CACHE_SIZE: grants the token service keeps folded in memory so that a refresh need
   * not re-read its grant stream (every use is still confirmed by the append). 0 turns it off.
   * Default 5000.
   */
  grantStateCacheSize: ['GRANT_STATE_CACHE_SIZE', int(0, 1_000_000).default(5000)],
  /** JWKS_MAX_AGE_SECONDS: also sets the pre-publication lead of a new key (2 × max-age). */
  jwksMaxAgeSeconds: JWKS_MAX_AGE_SECONDS,
  /**
   * SIGNING_KEY_ROTATION_SECONDS: how long a key signs before the token service rotates it on its
   * own (a successor is published 2 × JWKS_MAX_AGE_SECONDS before). 0 turns scheduled rotation off.
   * Default 2592000 (30 days). Must exceed 2 × JWKS_MAX_AGE_SECONDS.
   */
  signingKeyRotationSeconds: ['SIGNING_KEY_ROTATION_SECONDS', int(0, 10 * 365 * 86400).default(30 * 86400)],
  /**
   * SIGNING_KEY_RETENTION_SECONDS: how long a retired key stays in the JWKS (until the longest-lived
   * token it signed has expired). Default: the longest access-token lifetime
   * (ACCESS_TOKEN_MAX_TTL_SECONDS) + KEYRING_REFRESH_SECONDS (a replica may sign with the old key
   * until it re-reads the keyring); never less.
   */
  signingKeyRetentionSeconds: ['SIGNING_KEY_RETENTION_SECONDS', int(0, 10 * 365 * 86400).optional()],
  /**
   * KEYRING_REFRESH_SECONDS: how often each token replica re-reads the keyring stream (to pick up a
   * key published or activated by another replica or the CLI) and runs the rotation schedule.
   * Default 30.
   */
  keyringRefreshSeconds: ['KEYRING_REFRESH_SECONDS', int(1, 3600).default(30)],
  /**
   * REFRESH_TOKEN_IDLE_TTL_SECONDS: a refresh token not used within this many seconds expires
   * (RFC 9700 §4.14.2). Default 1209600 (14 days).
   */
  refreshTokenIdleTtlSeconds: ['REFRESH_TOKEN_IDLE_TTL_SECONDS', int(60, 365 * 86400).default(1209600)],
  /**
   * REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: a refresh-token family (one grant) ends this many seconds
   * after the code's redemption, however often it is used, for a client that names no
   * refresh_token_ttl_seconds; also the most a self-registered client may name. Default 2592000
   * (30 days).
   */
  refreshTokenAbsoluteTtlSeconds: [
    'REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS',
    int(60, MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS).default(2592000),
  ],
  /**
   * REFRESH_TOKEN_MAX_TTL_SECONDS: the server's cap on a family's absolute lifetime; a client's
   * refresh_token_ttl_seconds may lower it, never raise it past this cap. Default
   * REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS; at least that, at most a year.
   */
  refreshTokenMaxTtlSeconds: [
    'REFRESH_TOKEN_MAX_TTL_SECONDS',
    int(60, MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS).optional(),
  ],
  /**
   * REFRESH_TOKEN_MAX_ROTATIONS: a refresh-token family ends (RefreshTokenFamilyEnded) once it has
   * been rotated this many times; the client must send the user through authorization again.
   * Default 10000 (a refresh every 5 minutes for a month stays below it).
   */
  refreshTokenMaxRotations: ['REFRESH_TOKEN_MAX_ROTATIONS', int(1, 10_000_000).default(10000)],
}).transform((t, ctx) => {
  /** A setting bounded below by another (or by a sum of them), and by default that bound. */
  const atLeast = (variable: string, value: number | undefined, bound: number, boundName: string) => {
    if (value !== undefined && value < bound)
      problem(ctx, variable, `must be at least ${boundName} (${bound}), got "${value}"`);
    return value ?? bound;
  };
  // The caps are never below the defaults a client without its own value gets.
  const accessTokenMaxTtlSeconds = atLeast(
    'ACCESS_TOKEN_MAX_TTL_SECONDS',
    t.accessTokenMaxTtlSeconds,
    t.accessTokenTtlSeconds,
    'ACCESS_TOKEN_TTL_SECONDS',
  );
  const refreshTokenMaxTtlSeconds = atLeast(
    'REFRESH_TOKEN_MAX_TTL_SECONDS',
    t.refreshTokenMaxTtlSeconds,
    t.refreshTokenAbsoluteTtlSeconds,
    'REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS',
  );
  // The next key must be pre-published for 2 × the JWKS max-age within a rotation period.
  if (t.signingKeyRotationSeconds !== 0 && t.signingKeyRotationSeconds <= 2 * t.jwksMaxAgeSeconds)
    problem(
      ctx,
      'SIGNING_KEY_ROTATION_SECONDS',
      `must be 0 or greater than 2 × JWKS_MAX_AGE_SECONDS (${2 * t.jwksMaxAgeSeconds})`,
    );
  // No access token outlives ACCESS_TOKEN_MAX_TTL_SECONDS, so neither need its key.
  const signingKeyRetentionSeconds = atLeast(
    'SIGNING_KEY_RETENTION_SECONDS',
    t.signingKeyRetentionSeconds,
    accessTokenMaxTtlSeconds + t.keyringRefreshSeconds,
    'ACCESS_TOKEN_MAX_TTL_SECONDS + KEYRING_REFRESH_SECONDS',
  );
  return { ...t, accessTokenMaxTtlSeconds, refreshTokenMaxTtlSeconds, signingKeyRetentionSeconds };
});

export type SigningKeyConfig = IssuerConfig &
  z.output<typeof tokenSettings> &
  z.output<typeof keyEncryptionKeySettings> &
  z.output<typeof previousKeyEncryptionKeySettings>;
