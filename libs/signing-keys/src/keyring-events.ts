import type { JWK } from 'jose';
import type { SigningKeyConfig } from '#lib/config';
import type { NewEvent, RecordedEvent } from '#lib/event-store';
import type { SealedPrivateJwk } from './sealed-key.js';

/** The one stream of the signing keyring aggregate (keyring.ts). */
export const SIGNING_KEYRING_STREAM = 'signing-keyring';

export type SigningAlg = SigningKeyConfig['signingAlg'];

export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA', 'RS256'];

// Event data is stored as JSON, so instants are ISO 8601 strings (schema version 1).

export interface SigningKeyGeneratedData {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  sealedPrivateJwk: SealedPrivateJwk;
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
