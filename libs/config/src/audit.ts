import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { int, settings } from './env.js';

/** Signed checkpoints of the events' hash chain (docs/events.md "Checkpoints"). */
export const auditCheckpointSettings = settings({
  /** AUDIT_CHECKPOINT_INTERVAL_MS: time between two checkpoints (one is written only when the head moved). Default 60000. */
  auditCheckpointIntervalMs: ['AUDIT_CHECKPOINT_INTERVAL_MS', int(1000, 86_400_000).default(60000)],
  /**
   * AUDIT_CHECKPOINT_DIR: a directory outside Postgres (a volume the operator mounts) where each
   * checkpoint is written as `<position>.jws`, besides the JetStream stream `<EVENTS_STREAM>_CHECKPOINTS`.
   * Unset (default): JetStream only.
   */
  auditCheckpointDir: ['AUDIT_CHECKPOINT_DIR', z.string().optional()],
});

/** A private Ed25519 or EC P-256 key, as a JWK or a PKCS #8 PEM. */
function isCheckpointSigningKey(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  try {
    const key = raw.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(raw) as never, format: 'jwk' })
      : createPrivateKey(raw);
    const type = key.asymmetricKeyType;
    return type === 'ed25519' || (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  } catch {
    return false;
  }
}

export const auditCheckpointSigningKeySettings = settings({
  /**
   * AUDIT_CHECKPOINT_SIGNING_KEY: the key that signs checkpoints of the chain head, a private JWK
   * (Ed25519, preferred, or EC P-256) or a PKCS #8 PEM; never a token signing key. Unset (default):
   * no checkpoints. `npm run cli -- audit checkpoint-keygen` makes one.
   */
  auditCheckpointSigningKey: [
    'AUDIT_CHECKPOINT_SIGNING_KEY',
    z
      .string()
      .trim()
      .optional()
      .refine(isCheckpointSigningKey, 'must be a private JWK (Ed25519 or EC P-256) or a PKCS #8 PEM'),
  ],
});

export type AuditCheckpointConfig = z.output<typeof auditCheckpointSettings> &
  z.output<typeof auditCheckpointSigningKeySettings>;
