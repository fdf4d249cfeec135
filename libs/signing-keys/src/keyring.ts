import type { JWK } from 'jose';
import { accept, type Decider, type Decision, refuse } from '#lib/decider';
import {
  type ActivateSigningKey,
  type GenerateSigningKey,
  type RetireSigningKey,
  SIGNING_KEYRING_SCHEMA_VERSION,
  type SigningAlg,
  type SigningKeyRetired,
  type SigningKeyringCommand,
  type SigningKeyringEvent,
} from './keyring-events.js';
import {
  activeKey,
  evolveKeyring,
  findKey,
  initialKeyringState,
  slotOf,
  type SigningKey,
  type SigningKeyring,
} from './keyring-state.js';

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
 * - at most one key of each slot is active (keyring-events.ts `KeySlot`: the access-token key, and one
 *   ID-token key per alg); activating a key retires the previous active key of its slot in the same
 *   decision;
 * - `decideKeyring` and `evolveKeyring` (keyring-state.ts) read no clock and make no randomness: `now` and key material come in the command;
 * - a new key is in the JWKS before it signs (pre-publication: caches that fetched the JWKS earlier
 *   find it), and a retired key stays there until `publishUntil`, the expiry of the last token it
 *   signed (RFC 7517 §4.5: verifiers pick the key by kid);
 * - events, commands and the stream: keyring-events.ts; state and its fold: keyring-state.ts.

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

/**
 * A refusal is returned as the decision's KeyringError, never thrown (the checks below throw theirs,
 * turned into the refusal here).
 */
export function decideKeyring(command: SigningKeyringCommand, state: SigningKeyring): Decision<KeyringError> {
  try {
    return accept(decideCommand(command, state));
  } catch (err) {
    if (err instanceof KeyringError) return refuse(err);
    throw err;
  }
}

function decideCommand(command: SigningKeyringCommand, state: SigningKeyring): SigningKeyringEvent[] {
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
        ...(command.purpose === 'id_token' ? { purpose: 'id_token' as const } : {}),
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
  // Pre-publication: the key has been in the JWKS for the pre-publication period before first use.
  if (now < key.activatesAt && command.skipPrePublication !== true) {
    throw new SigningKeyActivationTooEarly(kid, key.activatesAt);
  }
  const events: SigningKeyringEvent[] = [];
  const previous = activeKey(state, slotOf(key));
  if (previous !== null) {
    // The retired key stays published until the last token it signed has expired.
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

/** The keyring as a decider: decide, evolve and the initial state, for folds and tests. */
export const signingKeyringDecider: Decider<
  SigningKeyringCommand,
  SigningKeyringEvent,
  SigningKeyring,
  KeyringError
> = {
  decide: decideKeyring,
  evolve: evolveKeyring,
  initialState: initialKeyringState,
};
