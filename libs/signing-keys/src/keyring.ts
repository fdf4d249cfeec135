import type { JWK } from 'jose';
import type { SigningKeyConfig } from '#lib/config';
import type { NewEvent, RecordedEvent } from '#lib/event-store';
import type { SealedPrivateJwk } from './sealed-key.js';

/**
 * The signing keyring: one aggregate, one stream, every signing key the issuer ever had.
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> published: SigningKeyGenerated
 *   published --> active: SigningKeyActivated (now ≥ activatesAt)
 *   published --> retired: SigningKeyRetired
 *   active --> retired: SigningKeyRetired (also when a successor is activated)
 *   retired --> retired: SigningKeyRetired (withdrawn earlier, e.g. compromised)
 *   retired --> [*]: publishUntil passed (leaves the JWKS, stays in the log)
 * ```
 *
 * Contracts:
 * - at most one key is active; activating a key retires the previous active key in the same decision;
 * - `decide` and `evolve` read no clock and make no randomness: `now` and key material come in the command;
 * - a retired key stays in the JWKS until `publishUntil` (checklist §19 decision 14).
 */
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
  /** Earliest instant the key may sign (pre-publication, decision 14). */
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
   * before the key was published reject its tokens until they refetch (decision 14 waived).
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

interface SigningKeyBase {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  sealedPrivateJwk: SealedPrivateJwk;
  generatedAt: Date;
  activatesAt: Date;
  /** When SigningKeyGenerated was recorded: from then on the JWKS can serve the key. */
  publishedAt: Date;
}

/** In the JWKS, not yet signing. */
export interface PublishedSigningKey extends SigningKeyBase {
  status: 'published';
}

/** In the JWKS and signing new tokens. */
export interface ActiveSigningKey extends SigningKeyBase {
  status: 'active';
  activatedAt: Date;
}

/** Signs nothing; in the JWKS until `publishUntil`. */
export interface RetiredSigningKey extends SigningKeyBase {
  status: 'retired';
  /** Null for a key retired without ever signing. */
  activatedAt: Date | null;
  retiredAt: Date;
  publishUntil: Date;
}

export type SigningKey = PublishedSigningKey | ActiveSigningKey | RetiredSigningKey;

export interface SigningKeyring {
  readonly keys: Readonly<Record<string, SigningKey>>;
}

/** Base of every refusal by the keyring decider; `code` is stable for mapping to a response. */
export abstract class KeyringError extends Error {
  abstract readonly code: string;
}

export class SigningKeyAlreadyExists extends KeyringError {
  readonly code = 'signing_key_already_exists';
  constructor(readonly kid: string) {
    super(`signing key ${kid} already exists`);
    this.name = 'SigningKeyAlreadyExists';
  }
}

export class SigningKeyNotFound extends KeyringError {
  readonly code = 'signing_key_not_found';
  constructor(readonly kid: string) {
    super(`signing key ${kid} does not exist`);
    this.name = 'SigningKeyNotFound';
  }
}

export class SigningKeyNotPublished extends KeyringError {
  readonly code = 'signing_key_not_published';
  constructor(
    readonly kid: string,
    readonly status: SigningKey['status'],
  ) {
    super(`signing key ${kid} is ${status}; only a published key can be activated`);
    this.name = 'SigningKeyNotPublished';
  }
}

export class SigningKeyActivationTooEarly extends KeyringError {
  readonly code = 'signing_key_activation_too_early';
  constructor(
    readonly kid: string,
    readonly activatesAt: Date,
  ) {
    super(`signing key ${kid} may not be activated before ${activatesAt.toISOString()}`);
    this.name = 'SigningKeyActivationTooEarly';
  }
}

export class SigningKeyAlreadyRetired extends KeyringError {
  readonly code = 'signing_key_already_retired';
  constructor(readonly kid: string) {
    super(`signing key ${kid} is already retired`);
    this.name = 'SigningKeyAlreadyRetired';
  }
}

export class InvalidKeyringCommand extends KeyringError {
  readonly code = 'invalid_keyring_command';
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'InvalidKeyringCommand';
  }
}

/** The stream holds an event this code cannot fold: unknown type or schema version, or an unknown kid. */
export class KeyringReplayError extends Error {
  constructor(
    readonly event: Pick<RecordedEvent, 'type' | 'schemaVersion' | 'streamVersion'>,
    reason: string,
  ) {
    super(`signing keyring event #${event.streamVersion} (${event.type} v${event.schemaVersion}): ${reason}`);
    this.name = 'KeyringReplayError';
  }
}

export function initialState(): SigningKeyring {
  return { keys: {} };
}

export function decide(command: SigningKeyringCommand, state: SigningKeyring): SigningKeyringEvent[] {
  switch (command.type) {
    case 'GenerateSigningKey':
      return generate(command, state);
    case 'ActivateSigningKey':
      return activate(command, state);
    case 'RetireSigningKey':
      return retire(command, state);
    default: {
      const unknown: never = command;
      throw new InvalidKeyringCommand(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

function generate(command: GenerateSigningKey, state: SigningKeyring): SigningKeyringEvent[] {
  const { kid, alg, publicJwk, now, activatesAt } = command;
  requireInstant(now, 'now');
  requireInstant(activatesAt, 'activatesAt');
  if (Object.hasOwn(state.keys, kid)) throw new SigningKeyAlreadyExists(kid);
  const problem = checkPublicJwk(kid, alg, publicJwk);
  if (problem) throw new InvalidKeyringCommand(problem);
  if (activatesAt < now) throw new InvalidKeyringCommand('activatesAt is before now');
  return [
    {
      type: 'SigningKeyGenerated',
      schemaVersion: SIGNING_KEYRING_SCHEMA_VERSION,
      data: {
        kid,
        alg,
        publicJwk,
        sealedPrivateJwk: command.sealedPrivateJwk,
        generatedAt: now.toISOString(),
        activatesAt: activatesAt.toISOString(),
      },
    },
  ];
}

function activate(command: ActivateSigningKey, state: SigningKeyring): SigningKeyringEvent[] {
  const { kid, now, longestTokenLifetimeSeconds } = command;
  requireInstant(now, 'now');
  if (!Number.isInteger(longestTokenLifetimeSeconds) || longestTokenLifetimeSeconds < 0) {
    throw new InvalidKeyringCommand('longestTokenLifetimeSeconds must be a non-negative integer');
  }
  const key = findKey(state, kid);
  if (key === undefined) throw new SigningKeyNotFound(kid);
  if (key.status !== 'published') throw new SigningKeyNotPublished(kid, key.status);
  // Decision 14: the key has been in the JWKS for the pre-publication period before first use.
  if (now < key.activatesAt && command.skipPrePublication !== true) {
    throw new SigningKeyActivationTooEarly(kid, key.activatesAt);
  }
  const events: SigningKeyringEvent[] = [];
  const previous = activeKey(state);
  if (previous !== null) {
    // Decision 14: the retired key stays published until the last token it signed has expired.
    const publishUntil = new Date(now.getTime() + longestTokenLifetimeSeconds * 1000);
    events.push(retiredEvent(previous.kid, now, publishUntil));
  }
  events.push({
    type: 'SigningKeyActivated',
    schemaVersion: SIGNING_KEYRING_SCHEMA_VERSION,
    data: { kid, activatedAt: now.toISOString() },
  });
  return events;
}

function retire(command: RetireSigningKey, state: SigningKeyring): SigningKeyringEvent[] {
  const { kid, now, publishUntil } = command;
  requireInstant(now, 'now');
  requireInstant(publishUntil, 'publishUntil');
  const key = findKey(state, kid);
  if (key === undefined) throw new SigningKeyNotFound(kid);
  if (publishUntil < now) throw new InvalidKeyringCommand('publishUntil is before now');
  // A retired key may only be withdrawn earlier from the JWKS (a compromised key), never kept longer.
  if (key.status === 'retired' && !(key.publishUntil > now && publishUntil < key.publishUntil)) {
    throw new SigningKeyAlreadyRetired(kid);
  }
  return [retiredEvent(kid, now, publishUntil)];
}

function retiredEvent(kid: string, now: Date, publishUntil: Date): SigningKeyRetired {
  return {
    type: 'SigningKeyRetired',
    schemaVersion: SIGNING_KEYRING_SCHEMA_VERSION,
    data: { kid, retiredAt: now.toISOString(), publishUntil: publishUntil.toISOString() },
  };
}

function requireInstant(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidKeyringCommand(`${name} must be a valid Date`);
  }
}

/** Members that make a JWK private or symmetric (RFC 7518 §6.2.2, §6.3.2, §6.4). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

function checkPublicJwk(kid: string, alg: SigningAlg, jwk: JWK): string | null {
  if (typeof jwk !== 'object' || jwk === null) return 'publicJwk must be a JWK object';
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (Object.hasOwn(jwk, member)) return `publicJwk carries the private member "${member}"`;
  }
  // RFC 7517 §4.5: the kid the JWS header will name is the one in the JWKS.
  if (jwk.kid !== kid) return 'publicJwk.kid differs from kid';
  // RFC 7517 §4.4
  if (jwk.alg !== alg) return 'publicJwk.alg differs from alg';
  // RFC 7517 §4.2
  if (jwk.use !== 'sig') return 'publicJwk.use must be "sig"';
  switch (alg) {
    case 'ES256':
      // RFC 7518 §3.4: ES256 is ECDSA on P-256.
      return jwk.kty === 'EC' && jwk.crv === 'P-256' ? null : 'ES256 needs an EC P-256 key';
    case 'EdDSA':
      // RFC 8037 §3.1
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? null : 'EdDSA needs an OKP Ed25519 key';
    case 'RS256':
      // RFC 7518 §3.3: a key of size 2048 bits or larger MUST be used.
      return jwk.kty === 'RSA' &&
        typeof jwk.n === 'string' &&
        Buffer.from(jwk.n, 'base64url').length * 8 >= 2048
        ? null
        : 'RS256 needs an RSA key of at least 2048 bits';
    default: {
      const unknown: never = alg;
      return `unsupported signing alg ${String(unknown)}`;
    }
  }
}

export function evolve(state: SigningKeyring, event: RecordedEvent): SigningKeyring {
  if (event.schemaVersion !== SIGNING_KEYRING_SCHEMA_VERSION) {
    throw new KeyringReplayError(event, 'unsupported schema version');
  }
  const e = event as RecordedSigningKeyringEvent;
  switch (e.type) {
    case 'SigningKeyGenerated': {
      const { kid, alg, publicJwk, sealedPrivateJwk } = e.data;
      if (Object.hasOwn(state.keys, kid)) throw new KeyringReplayError(event, `kid ${kid} generated twice`);
      const key: PublishedSigningKey = {
        status: 'published',
        kid,
        alg,
        publicJwk,
        sealedPrivateJwk,
        generatedAt: new Date(e.data.generatedAt),
        activatesAt: new Date(e.data.activatesAt),
        publishedAt: new Date(event.recordedAt),
      };
      return { keys: { ...state.keys, [kid]: key } };
    }
    case 'SigningKeyActivated': {
      const key = existing(state, event, e.data.kid);
      const active: ActiveSigningKey = {
        ...base(key),
        status: 'active',
        activatedAt: new Date(e.data.activatedAt),
      };
      return { keys: { ...state.keys, [key.kid]: active } };
    }
    case 'SigningKeyRetired': {
      const key = existing(state, event, e.data.kid);
      const retired: RetiredSigningKey = {
        ...base(key),
        status: 'retired',
        activatedAt: key.status === 'published' ? null : key.activatedAt,
        // A second SigningKeyRetired only withdraws the key earlier; it retired the first time.
        retiredAt: key.status === 'retired' ? key.retiredAt : new Date(e.data.retiredAt),
        publishUntil: new Date(e.data.publishUntil),
      };
      return { keys: { ...state.keys, [key.kid]: retired } };
    }
    default: {
      const unknown: never = e;
      throw new KeyringReplayError(unknown as RecordedEvent, 'unknown event type');
    }
  }
}

function existing(state: SigningKeyring, event: RecordedEvent, kid: string): SigningKey {
  const key = findKey(state, kid);
  if (key === undefined) throw new KeyringReplayError(event, `kid ${kid} was never generated`);
  return key;
}

function base(key: SigningKey): SigningKeyBase {
  const { kid, alg, publicJwk, sealedPrivateJwk, generatedAt, activatesAt, publishedAt } = key;
  return { kid, alg, publicJwk, sealedPrivateJwk, generatedAt, activatesAt, publishedAt };
}

export const signingKeyringDecider = { decide, evolve, initialState };

/** The key with this kid; own properties only, so a kid such as "constructor" finds nothing. */
export function findKey(state: SigningKeyring, kid: string): SigningKey | undefined {
  return Object.hasOwn(state.keys, kid) ? state.keys[kid] : undefined;
}

export function activeKey(state: SigningKeyring): ActiveSigningKey | null {
  for (const key of Object.values(state.keys)) if (key.status === 'active') return key;
  return null;
}

/** Keys not yet active, oldest first. */
export function pendingKeys(state: SigningKeyring): PublishedSigningKey[] {
  return Object.values(state.keys)
    .filter((k): k is PublishedSigningKey => k.status === 'published')
    .sort(byGeneratedAt);
}

/**
 * The keys the JWKS must carry at `now`: published, active, and retired ones whose `publishUntil` is
 * still ahead (decision 14). Active first, then published oldest first, then retired newest first.
 */
export function publishedKeys(state: SigningKeyring, now: Date): SigningKey[] {
  const keys = Object.values(state.keys);
  const active = keys.filter((k) => k.status === 'active');
  const retired = keys
    .filter((k): k is RetiredSigningKey => k.status === 'retired' && k.publishUntil > now)
    .sort((a, b) => b.retiredAt.getTime() - a.retiredAt.getTime() || compareKid(a, b));
  return [...active, ...pendingKeys(state), ...retired];
}

function byGeneratedAt(a: SigningKey, b: SigningKey): number {
  return a.generatedAt.getTime() - b.generatedAt.getTime() || compareKid(a, b);
}

function compareKid(a: SigningKey, b: SigningKey): number {
  return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
}
