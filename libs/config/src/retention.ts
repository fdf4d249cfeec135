import { ConfigError, type Env, int, str } from './env.js';

/** A JSON Web Key (RFC 7517 §4) as read from the environment. */
export type RetentionJwk = Record<string, unknown> & { kty: string };

export interface RetentionConfig {
  /**
   * RETENTION_ARCHIVE_DIR: the directory `retention run` writes archives to and `audit verify`
   * reads their manifests from. Unset: no archiving, and `audit verify` uses no manifests.
   */
  retentionArchiveDir: string | undefined;
  /** RETENTION_ACCESS_TOKEN_DAYS: days a client-credentials access token is kept after its exp. Default 90. */
  retentionAccessTokenDays: number;
  /** RETENTION_GRANT_DAYS: days a grant is kept after it was revoked or all it issued expired. Default 90. */
  retentionGrantDays: number;
  /** RETENTION_SESSION_DAYS: days a login session is kept after it ended or expired. Default 30. */
  retentionSessionDays: number;
  /** RETENTION_DELETE_BATCH: archived events deleted per transaction. Default 1000. */
  retentionDeleteBatch: number;
  /** RETENTION_SIGNING_KEY: private Ed25519 JWK (RFC 8037) signing archive manifests. Read when used. */
  retentionSigningKey: RetentionJwk;
  /**
   * RETENTION_VERIFY_KEYS: JSON array of public Ed25519 JWKs manifests may also be signed with
   * (keys used before the current one). Default none.
   */
  retentionVerifyKeys: RetentionJwk[];
}

function okpKey(value: unknown, key: string, needPrivate: boolean): RetentionJwk {
  const jwk = value as Record<string, unknown> | null;
  if (
    jwk === null ||
    typeof jwk !== 'object' ||
    jwk.kty !== 'OKP' ||
    jwk.crv !== 'Ed25519' ||
    typeof jwk.x !== 'string' ||
    (needPrivate && typeof jwk.d !== 'string')
  ) {
    throw new ConfigError(
      `${key} must hold ${needPrivate ? 'a private' : 'public'} Ed25519 JWK(s) (kty OKP, crv Ed25519)`,
    );
  }
  return jwk as RetentionJwk;
}

function json(key: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(`${key} must be JSON`);
  }
}

export function readRetentionSigningKey(env: Env): RetentionJwk {
  const raw = str(env, 'RETENTION_SIGNING_KEY', '');
  if (raw === '') {
    throw new ConfigError(
      'RETENTION_SIGNING_KEY is not set: a private Ed25519 JWK that signs the manifests of event archives (docs/retention.md)',
    );
  }
  return okpKey(json('RETENTION_SIGNING_KEY', raw), 'RETENTION_SIGNING_KEY', true);
}

export function readRetentionSettings(env: Env): Omit<RetentionConfig, 'retentionSigningKey'> {
  const dir = str(env, 'RETENTION_ARCHIVE_DIR', '');
  const verify = str(env, 'RETENTION_VERIFY_KEYS', '');
  const keys = verify === '' ? [] : json('RETENTION_VERIFY_KEYS', verify);
  if (!Array.isArray(keys)) throw new ConfigError('RETENTION_VERIFY_KEYS must be a JSON array of JWKs');
  return {
    retentionArchiveDir: dir === '' ? undefined : dir,
    retentionAccessTokenDays: int(env, 'RETENTION_ACCESS_TOKEN_DAYS', 90, 0, 36500),
    retentionGrantDays: int(env, 'RETENTION_GRANT_DAYS', 90, 0, 36500),
    retentionSessionDays: int(env, 'RETENTION_SESSION_DAYS', 30, 0, 36500),
    retentionDeleteBatch: int(env, 'RETENTION_DELETE_BATCH', 1000, 1, 100_000),
    retentionVerifyKeys: keys.map((k) => okpKey(k, 'RETENTION_VERIFY_KEYS', false)),
  };
}
