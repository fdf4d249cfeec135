import type { JWK } from 'jose';
import type { SigningKeyConfig } from '#lib/config';
import type { NewEvent, RecordedEvent } from '#lib/event-store';
import type { SealedPrivateJwk } from './sealed-key.js';

/** The one stream of the signing keyring aggregate (keyring.ts). */
export const SIGNING_KEYRING_STREAM = 'signing-keyring';

export type SigningAlg = SigningKeyConfig['signingAlg'];

export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA', 'RS256'];

/**
 * What a key signs: access tokens (SIGNING_ALG; one active key, whatever its alg) or ID tokens (one
 * active key per alg a client may register as `id_token_signed_response_alg`, OpenID Connect
 * Registration §2). The two never share a key, so each keeps the lifetime of its own tokens in the JWKS.
 */
export type KeyPurpose = 'access_token' | 'id_token';

/** Which keys one active key is chosen among. */
export type KeySlot = { purpose: 'access_token' } | { purpose: 'id_token'; alg: SigningAlg };

export const ACCESS_TOKEN_SLOT: KeySlot = { purpose: 'access_token' };

// Event data is stored as JSON, so instants are ISO 8601 strings (schema version 1).

export interface SigningKeyGeneratedData {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  sealedPrivateJwk: SealedPrivateJwk;
  /** Absent: an access-token key (every key before ID tokens). */
  purpose?: 'id_token';
  generatedAt: string;
  /** Earliest instant the key may sign: it is in the JWKS for the pre-publication period first. */
  activatesAt: string;
}

export interface SigningKeyActivatedData {
  kid: string;
  activatedAt: string;
}

export interface SigningKeyRetiredData {
  kid: string;
  retiredAt: string;
  /** The key leaves the JWKS at this instant: the expiry of the longest-lived token it could have signed. */
  publishUntil: string;
}

interface KeyringEventData {
  SigningKeyGenerated: SigningKeyGeneratedData;
  SigningKeyActivated: SigningKeyActivatedData;
  SigningKeyRetired: SigningKeyRetiredData;
}

export type SigningKeyringEventType = keyof KeyringEventData;

/**
 * Every event type of the `signing-keyring` stream (a Record over the union: a type added to the
 * union and not here does not compile; the published-events contract in libs/contracts is checked
 * against every `*_EVENT_TYPES` array).
 */
const signingKeyringEventTypes: Record<SigningKeyringEventType, true> = {
  SigningKeyGenerated: true,
  SigningKeyActivated: true,
  SigningKeyRetired: true,
};
export const SIGNING_KEYRING_EVENT_TYPES = Object.keys(
  signingKeyringEventTypes,
) as readonly SigningKeyringEventType[];

export type SigningKeyGenerated = NewEvent<'SigningKeyGenerated', SigningKeyGeneratedData>;
export type SigningKeyActivated = NewEvent<'SigningKeyActivated', SigningKeyActivatedData>;
export type SigningKeyRetired = NewEvent<'SigningKeyRetired', SigningKeyRetiredData>;
export type SigningKeyringEvent = SigningKeyGenerated | SigningKeyActivated | SigningKeyRetired;

export type RecordedSigningKeyringEvent = {
  [T in SigningKeyringEventType]: RecordedEvent<T, KeyringEventData[T]>;
}[SigningKeyringEventType];

export const SIGNING_KEYRING_SCHEMA_VERSION = 1;

export interface GenerateSigningKey {
  type: 'GenerateSigningKey';
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  sealedPrivateJwk: SealedPrivateJwk;
  /** Absent: an access-token key. */
  purpose?: 'id_token';
  now: Date;
  activatesAt: Date;
}

export interface ActivateSigningKey {
  type: 'ActivateSigningKey';
  kid: string;
  now: Date;
  /** Lifetime of the longest-lived token the current active key may have signed; sets its `publishUntil`. */
  longestTokenLifetimeSeconds: number;
  /**
   * An operator's `keys rotate --now`: activate before `activatesAt`. Caches holding a JWKS fetched
   * before the key was published reject its tokens until they refetch (pre-publication waived).
   */
  skipPrePublication?: boolean;
}

export interface RetireSigningKey {
  type: 'RetireSigningKey';
  kid: string;
  now: Date;
  publishUntil: Date;
}

export type SigningKeyringCommand = GenerateSigningKey | ActivateSigningKey | RetireSigningKey;
