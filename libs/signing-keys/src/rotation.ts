import { activeKey, pendingKeys, type SigningKeyring } from './keyring.js';

/**
 * What a signing service does at startup, before it signs anything:
 * - `none`: a key is active;
 * - `activate`: no key is active but a published key may already be activated (e.g. a first boot that
 *   stopped between generating and activating);
 * - `generate-and-activate`: first boot. Generate with `activatesAt = now` and activate at once: no JWKS
 *   was ever served, so no cache can miss the key and pre-publication (decision 14) is moot.
 */
export type InitialKeyPlan =
  { action: 'none'; kid: string } | { action: 'activate'; kid: string } | { action: 'generate-and-activate' };

export function planInitialKey(state: SigningKeyring, now: Date): InitialKeyPlan {
  const active = activeKey(state);
  if (active !== null) return { action: 'none', kid: active.kid };
  const ready = pendingKeys(state).find((k) => k.activatesAt <= now);
  return ready === undefined ? { action: 'generate-and-activate' } : { action: 'activate', kid: ready.kid };
}

export interface RotationPolicy {
  /** Target lifetime of an active key. Must exceed twice `jwksMaxAgeSeconds`. */
  rotateEverySeconds: number;
  /** Cache-Control max-age of the JWKS document (JWKS_MAX_AGE_SECONDS). */
  jwksMaxAgeSeconds: number;
}

/**
 * The next step of scheduled rotation:
 * - `generate`: the active key is older than rotateEvery − 2×jwksMaxAge and no successor is published;
 *   generate one with the returned `activatesAt`;
 * - `activate`: a published successor has been in the JWKS for at least 2×jwksMaxAge;
 * - `none`: otherwise, including when no key is active (startup is `planInitialKey`'s job).
 *
 * Running it on a schedule, and the admin trigger for JWKS-04, are issue 5's work.
 */
export type RotationStep =
  { action: 'none' } | { action: 'generate'; activatesAt: Date } | { action: 'activate'; kid: string };

export class InvalidRotationPolicy extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRotationPolicy';
  }
}

export function rotationDue(state: SigningKeyring, now: Date, policy: RotationPolicy): RotationStep {
  const { rotateEverySeconds, jwksMaxAgeSeconds } = policy;
  if (!Number.isInteger(jwksMaxAgeSeconds) || jwksMaxAgeSeconds < 0) {
    throw new InvalidRotationPolicy('jwksMaxAgeSeconds must be a non-negative integer');
  }
  // Decision 14: the next key is published at least twice the JWKS max-age before first use.
  const prePublicationMs = 2 * jwksMaxAgeSeconds * 1000;
  // JWKS-06: the JWKS max-age must be shorter than the rotation overlap.
  if (!Number.isInteger(rotateEverySeconds) || rotateEverySeconds * 1000 <= prePublicationMs) {
    throw new InvalidRotationPolicy(
      'rotateEverySeconds must be an integer greater than 2 × jwksMaxAgeSeconds',
    );
  }
  const active = activeKey(state);
  if (active === null) return { action: 'none' };
  const successors = pendingKeys(state);
  if (successors.length > 0) {
    const ready = successors.find(
      (k) => now.getTime() - k.generatedAt.getTime() >= prePublicationMs && now >= k.activatesAt,
    );
    return ready === undefined ? { action: 'none' } : { action: 'activate', kid: ready.kid };
  }
  if (now.getTime() - active.activatedAt.getTime() > rotateEverySeconds * 1000 - prePublicationMs) {
    return { action: 'generate', activatesAt: new Date(now.getTime() + prePublicationMs) };
  }
  return { action: 'none' };
}
