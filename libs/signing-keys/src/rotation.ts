import { ACCESS_TOKEN_SLOT, type KeySlot } from './keyring-events.js';
import { activeKey, pendingKeys, type SigningKeyring } from './keyring-state.js';

/**
 * What a signing service does at startup, before it signs anything, for the keys of one slot (the
 * access-token key by default; an ID-token alg's key at its first use):
 * - `none`: a key is active;
 * - `activate`: no key is active but a published key may already be activated (e.g. a first boot that
 *   stopped between generating and activating);
 * - `generate-and-activate`: first boot. Generate with `activatesAt = now` and activate at once: no JWKS
 *   was ever served, so no cache can miss the key and pre-publication is moot.
 */
export type InitialKeyPlan =
  { action: 'none'; kid: string } | { action: 'activate'; kid: string } | { action: 'generate-and-activate' };

export function planInitialKey(
  state: SigningKeyring,
  now: Date,
  slot: KeySlot = ACCESS_TOKEN_SLOT,
): InitialKeyPlan {
  const active = activeKey(state, slot);
  if (active !== null) return { action: 'none', kid: active.kid };
  const ready = pendingKeys(state, slot).find((k) => k.activatesAt <= now);
  return ready === undefined ? { action: 'generate-and-activate' } : { action: 'activate', kid: ready.kid };
}

export interface RotationPolicy {
  /**
   * Target lifetime of an active key (SIGNING_KEY_ROTATION_SECONDS). Must exceed twice
   * `jwksMaxAgeSeconds`; 0 turns scheduled generation off (a key published by `keys rotate` is still
   * activated on schedule).
   */
  rotateEverySeconds: number;
  /** Cache-Control max-age of the JWKS document (JWKS_MAX_AGE_SECONDS). */
  jwksMaxAgeSeconds: number;
  /**
   * How long after the SigningKeyGenerated commit the JWKS answer may still lack the key (the
   * token service's JWKS copy may be this stale). Added to the lead. Default 0.
   */
  publicationLagMs?: number;
  /** The keys this step is about; the access-token key by default. */
  slot?: KeySlot;
}

/**
 * The next step of scheduled rotation:
 * - `generate`: the active key is older than rotateEvery − 2×jwksMaxAge and no successor is published;
 *   generate one with the returned `activatesAt`;
 * - `activate`: a published successor has been in the JWKS for at least 2×jwksMaxAge;
 * - `none`: otherwise, including when no key is active (startup is `planInitialKey`'s job).
 */
export type RotationStep =
  { action: 'none' } | { action: 'generate'; activatesAt: Date } | { action: 'activate'; kid: string };

export class InvalidRotationPolicy extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRotationPolicy';
  }
}

/**
 * Pre-publication: the next key is in the JWKS at least twice its Cache-Control max-age before
 * first use, so a verifier holding a cached JWKS refetches before it meets the new kid.
 */
export function prePublicationSeconds(jwksMaxAgeSeconds: number): number {
  if (!Number.isInteger(jwksMaxAgeSeconds) || jwksMaxAgeSeconds < 0) {
    throw new InvalidRotationPolicy('jwksMaxAgeSeconds must be a non-negative integer');
  }
  return 2 * jwksMaxAgeSeconds;
}

/** Throws InvalidRotationPolicy unless the policy can keep pre-publication within a rotation period. */
export function checkRotationPolicy(policy: RotationPolicy): void {
  const prePublication = prePublicationSeconds(policy.jwksMaxAgeSeconds);
  const { rotateEverySeconds } = policy;
  // The JWKS max-age must be shorter than the rotation overlap.
  if (
    !Number.isInteger(rotateEverySeconds) ||
    rotateEverySeconds < 0 ||
    (rotateEverySeconds !== 0 && rotateEverySeconds <= prePublication)
  ) {
    throw new InvalidRotationPolicy(
      'rotateEverySeconds must be 0 or an integer greater than 2 × jwksMaxAgeSeconds',
    );
  }
}

export function rotationDue(state: SigningKeyring, now: Date, policy: RotationPolicy): RotationStep {
  checkRotationPolicy(policy);
  const { rotateEverySeconds } = policy;
  const prePublicationMs = prePublicationSeconds(policy.jwksMaxAgeSeconds) * 1000;
  const slot = policy.slot ?? ACCESS_TOKEN_SLOT;
  const active = activeKey(state, slot);
  if (active === null) return { action: 'none' };
  const successors = pendingKeys(state, slot);
  if (successors.length > 0) {
    const lead = prePublicationMs + (policy.publicationLagMs ?? 0);
    // Measured from the later of the decision and the commit: key generation and the append take time.
    const ready = successors.find(
      (k) =>
        now.getTime() - Math.max(k.generatedAt.getTime(), k.publishedAt.getTime()) >= lead &&
        now >= k.activatesAt,
    );
    return ready === undefined ? { action: 'none' } : { action: 'activate', kid: ready.kid };
  }
  if (
    rotateEverySeconds > 0 &&
    now.getTime() - active.activatedAt.getTime() > rotateEverySeconds * 1000 - prePublicationMs
  ) {
    return { action: 'generate', activatesAt: new Date(now.getTime() + prePublicationMs) };
  }
  return { action: 'none' };
}

/**
 * What `keys rotate` does (an operator's rotation on demand):
 * - `generate`: publish a new key that activates at `activatesAt` (now + 2×jwksMaxAge: pre-publication),
 *   or, with `immediate`, now;
 * - `pending`: a successor is already published; without `immediate` nothing more is needed;
 * - `activate-now` (immediate only): activate that published successor at once, waiving
 *   pre-publication.
 * With `immediate`, a `generate` is followed by the activation of the new key in the same append.
 */
export type ManualRotationPlan =
  | { action: 'generate'; activatesAt: Date; activateNow: boolean }
  | { action: 'pending'; kid: string; activatesAt: Date }
  | { action: 'activate-now'; kid: string };

export function planManualRotation(
  state: SigningKeyring,
  now: Date,
  options: { jwksMaxAgeSeconds: number; immediate: boolean; slot?: KeySlot },
): ManualRotationPlan {
  const prePublicationMs = prePublicationSeconds(options.jwksMaxAgeSeconds) * 1000;
  const successor = pendingKeys(state, options.slot ?? ACCESS_TOKEN_SLOT)[0];
  if (successor !== undefined) {
    return options.immediate
      ? { action: 'activate-now', kid: successor.kid }
      : { action: 'pending', kid: successor.kid, activatesAt: successor.activatesAt };
  }
  return options.immediate
    ? { action: 'generate', activatesAt: now, activateNow: true }
    : { action: 'generate', activatesAt: new Date(now.getTime() + prePublicationMs), activateNow: false };
}
