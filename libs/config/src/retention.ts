import { z } from 'zod';
import { int, settings } from './env.js';

/** A JSON Web Key (RFC 7517 §4) as read from the environment. */
export type RetentionJwk = Record<string, unknown> & { kty: string };

/** An Ed25519 key as a JWK (RFC 8037 §2): public (`x`), or private too (`d`). */
function isOkp(value: unknown, needPrivate: boolean): value is RetentionJwk {
  const jwk = value as Record<string, unknown> | null;
  return (
    jwk !== null &&
    typeof jwk === 'object' &&
    !Array.isArray(jwk) &&
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    typeof jwk.x === 'string' &&
    (!needPrivate || typeof jwk.d === 'string')
  );
}

const json = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON' });
    return z.NEVER;
  }
});

/** Retention by archiving (docs/retention.md): run by the CLI (`retention run`), no service. */
export const retentionSettings = settings({
  /**
   * RETENTION_ARCHIVE_DIR: where `retention run` writes archives and `audit verify` reads their
   * manifests. Unset (default): no archiving, and `audit verify` uses no manifests.
   */
  retentionArchiveDir: ['RETENTION_ARCHIVE_DIR', z.string().optional()],
  /** RETENTION_ACCESS_TOKEN_DAYS: days a client-credentials access token is kept after its exp. Default 90. */
  retentionAccessTokenDays: ['RETENTION_ACCESS_TOKEN_DAYS', int(0, 36500).default(90)],
  /** RETENTION_GRANT_DAYS: days a grant is kept after it was revoked or all it issued expired. Default 90. */
  retentionGrantDays: ['RETENTION_GRANT_DAYS', int(0, 36500).default(90)],
  /** RETENTION_SESSION_DAYS: days a login session is kept after it ended or expired. Default 30. */
  retentionSessionDays: ['RETENTION_SESSION_DAYS', int(0, 36500).default(30)],
  /** RETENTION_USER_DAYS: days an erased user's history is kept after the erasure. Default 30. */
  retentionUserDays: ['RETENTION_USER_DAYS', int(0, 36500).default(30)],
  /** RETENTION_DELETE_BATCH: archived events deleted per transaction. Default 1000. */
  retentionDeleteBatch: ['RETENTION_DELETE_BATCH', int(1, 100_000).default(1000)],
  /**
   * RETENTION_DUTY_CYCLE: the percentage of its time a `retention run` works; after each page of
   * candidates, archive and delete batch it rests the rest, leaving the database and the CPU to the
   * requests being served. 100: no rest. Default 50.
   */
  retentionDutyCycle: ['RETENTION_DUTY_CYCLE', int(1, 100).default(50)],
  /**
   * RETENTION_MAX_ARCHIVES: archives one `retention run` writes at most (10,000 events each), then
   * it stops and the next run goes on from there. 0 (default): no limit; the run goes on until its
   * scan has covered the whole log once.
   */
  retentionMaxArchives: ['RETENTION_MAX_ARCHIVES', int(0, 1_000_000).default(0)],
  /**
   * RETENTION_VERIFY_KEYS: a JSON array of public Ed25519 JWKs manifests may also be signed with
   * (keys used before the current one). Default none.
   */
  retentionVerifyKeys: [
    'RETENTION_VERIFY_KEYS',
    json
      .refine(
        (v) => Array.isArray(v) && v.every((k) => isOkp(k, false)),
        'must be a JSON array of public Ed25519 JWKs (kty OKP, crv Ed25519)',
      )
      .transform((v) => v as RetentionJwk[])
      .optional()
      .transform((v) => v ?? []),
  ],
});

export const retentionSigningKeySettings = settings({
  /** RETENTION_SIGNING_KEY: a private Ed25519 JWK (RFC 8037) signing archive manifests. Read when used. */
  retentionSigningKey: [
    'RETENTION_SIGNING_KEY',
    z
      .string({
        error: () =>
          'is not set: a private Ed25519 JWK that signs the manifests of event archives (docs/retention.md)',
      })
      .pipe(json)
      .refine((v) => isOkp(v, true), 'must be a private Ed25519 JWK (kty OKP, crv Ed25519, d)')
      .transform((v) => v as RetentionJwk),
  ],
});

export type RetentionConfig = z.output<typeof retentionSettings> &
  z.output<typeof retentionSigningKeySettings>;
