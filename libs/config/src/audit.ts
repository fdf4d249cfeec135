import { createPrivateKey } from 'node:crypto';
import { ConfigError, type Env, int } from './env.js';

/** Signed checkpoints of the events' hash chain (docs/events.md "Checkpoints"). */
export interface AuditCheckpointConfig {
  /**
   * AUDIT_CHECKPOINT_SIGNING_KEY: the key that signs checkpoints of the chain head, a private JWK
   * (Ed25519, preferred, or EC P-256) or a PKCS #8 PEM; never a token signing key. Unset (default):
   * no checkpoints. `npm run cli -- audit checkpoint-keygen` makes one.
   */
  auditCheckpointSigningKey: string | undefined;
  /** AUDIT_CHECKPOINT_INTERVAL_MS: time between two checkpoints (one is written only when the head moved). Default 60000. */
  auditCheckpointIntervalMs: number;
  /**
   * AUDIT_CHECKPOINT_DIR: a directory outside Postgres (a volume the operator mounts) where each
   * checkpoint is written as `<position>.jws`, besides the JetStream stream `<EVENTS_STREAM>_CHECKPOINTS`.
   * Unset (default): JetStream only.
   */
  auditCheckpointDir: string | undefined;
}

export function readAuditCheckpointSettings(
  env: Env,
): Omit<AuditCheckpointConfig, 'auditCheckpointSigningKey'> {
  return {
    auditCheckpointIntervalMs: int(env, 'AUDIT_CHECKPOINT_INTERVAL_MS', 60000, 1000, 86_400_000),
    auditCheckpointDir: env.AUDIT_CHECKPOINT_DIR || undefined,
  };
}

export function readAuditCheckpointSigningKey(env: Env): string | undefined {
  const raw = env.AUDIT_CHECKPOINT_SIGNING_KEY?.trim();
  if (!raw) return undefined;
  const problem = 'AUDIT_CHECKPOINT_SIGNING_KEY must be a private JWK (Ed25519 or EC P-256) or a PKCS #8 PEM';
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const key = raw.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(raw) as never, format: 'jwk' })
      : createPrivateKey(raw);
    type = key.asymmetricKeyType;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch {
    throw new ConfigError(problem);
  }
  if (!(type === 'ed25519' || (type === 'ec' && curve === 'prime256v1'))) throw new ConfigError(problem);
  return raw;
}
