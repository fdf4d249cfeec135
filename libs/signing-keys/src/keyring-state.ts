import type { JWK } from 'jose';
import type { RecordedEvent } from '#lib/event-store';
import {
  ACCESS_TOKEN_SLOT,
  type KeyPurpose,
  type KeySlot,
  type RecordedSigningKeyringEvent,
  SIGNING_KEYRING_SCHEMA_VERSION,
  type SigningAlg,
} from './keyring-events.js';
import type { SealedPrivateJwk } from './sealed-key.js';

/** The signing keyring's state: every key the issuer ever had, folded from its stream. */

export interface SigningKeyBase {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  sealedPrivateJwk: SealedPrivateJwk;
  purpose: KeyPurpose;
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

export function initialKeyringState(): SigningKeyring {
  return { keys: {} };
}

export function evolveKeyring(state: SigningKeyring, event: RecordedEvent): SigningKeyring {
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
        purpose: e.data.purpose ?? 'access_token',
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
  const { kid, alg, publicJwk, sealedPrivateJwk, purpose, generatedAt, activatesAt, publishedAt } = key;
  return { kid, alg, publicJwk, sealedPrivateJwk, purpose, generatedAt, activatesAt, publishedAt };
}

/** The key with this kid; own properties only, so a kid such as "constructor" finds nothing. */
export function findKey(state: SigningKeyring, kid: string): SigningKey | undefined {
  return Object.hasOwn(state.keys, kid) ? state.keys[kid] : undefined;
}

/** Whether `key` is one of the keys of `slot`. */
export function inSlot(key: Pick<SigningKey, 'alg' | 'purpose'>, slot: KeySlot): boolean {
  return key.purpose === slot.purpose && (slot.purpose === 'access_token' || key.alg === slot.alg);
}

/** The slot a key belongs to. */
export function slotOf(key: Pick<SigningKey, 'alg' | 'purpose'>): KeySlot {
  return key.purpose === 'id_token' ? { purpose: 'id_token', alg: key.alg } : ACCESS_TOKEN_SLOT;
}

/** The active key of `slot` (at most one each); by default the access-token key. */
export function activeKey(state: SigningKeyring, slot: KeySlot = ACCESS_TOKEN_SLOT): ActiveSigningKey | null {
  for (const key of Object.values(state.keys)) if (key.status === 'active' && inSlot(key, slot)) return key;
  return null;
}

/** Every active key: the access-token key and one ID-token key per alg in use. */
export function activeKeys(state: SigningKeyring): ActiveSigningKey[] {
  return Object.values(state.keys).filter((k): k is ActiveSigningKey => k.status === 'active');
}

/** Keys not yet active (of `slot`, when given), oldest first. */
export function pendingKeys(state: SigningKeyring, slot?: KeySlot): PublishedSigningKey[] {
  return Object.values(state.keys)
    .filter(
      (k): k is PublishedSigningKey => k.status === 'published' && (slot === undefined || inSlot(k, slot)),
    )
    .sort(byGeneratedAt);
}

/**
 * The keys the JWKS must carry at `now`: published, active, and retired ones whose `publishUntil` is
 * still ahead (RFC 7517 §4.5: a verifier finds every key a live token names). Active first, then published oldest first, then retired newest first.
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
