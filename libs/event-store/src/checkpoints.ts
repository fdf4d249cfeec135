import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import {
  calculateJwkThumbprint,
  CompactSign,
  compactVerify,
  exportJWK,
  generateKeyPair,
  type JWK,
} from 'jose';
import { eventHash, GENESIS_HASH, type ChainedEvent } from './hash-chain.js';

/**
 * Signed checkpoints of the hash chain (docs/events.md "Checkpoints"). The chain is unkeyed: whoever
 * can rewrite `events` can recompute every hash. A checkpoint signs the head (position and hash) with
 * a key Postgres never holds, and is kept outside it, so a recomputed chain no longer reaches the
 * signed hash. The head hash under the signature is what cannot be forged; the per-event
 * fingerprints only locate the first rewritten event (a recompute leaves every hash before it
 * unchanged and changes every one from it on).
 */

export interface ChainPoint {
  position: number;
  hash: string;
}

export interface Checkpoint {
  version: 1;
  /** Global position of the last event covered. */
  position: number;
  /** Its hash (hex): the chain head at `position`. */
  hash: string;
  /** When it was made (ISO 8601). */
  at: string;
  /** The checkpoint before, whose position starts the interval; null: the interval starts at the first event. */
  previous: ChainPoint | null;
  /** Hashed events in (previous.position, position]. */
  count: number;
  /** base64 of the first 8 bytes of each of those events' hash, in global order. */
  fingerprints: string[];
}

/** JWS `typ` (RFC 7515 §4.1.9) of a checkpoint, so that no other signed object passes for one. */
export const CHECKPOINT_TYP = 'authz-chain-checkpoint+jws';

/** Events one checkpoint covers at most: a longer interval is cut into several (bounded files). */
export const MAX_CHECKPOINT_EVENTS = 50_000;

export function fingerprint(hash: string): string {
  return Buffer.from(hash.slice(0, 16), 'hex').toString('base64');
}

/** `00000000000000001234.jws`: names sort as positions do. */
export function checkpointFileName(position: number): string {
  return `${String(position).padStart(20, '0')}.jws`;
}

export const CHECKPOINT_FILE = /^\d{20}\.jws$/;

/** The live chain does not continue from the last checkpoint: refuse to sign what follows. */
export class ChainDoesNotContinueError extends Error {
  constructor(
    readonly position: number,
    readonly eventId: string,
    why: string,
  ) {
    super(
      `the event at position ${position} (${eventId}) does not continue from the last checkpoint: ${why}`,
    );
    this.name = 'ChainDoesNotContinueError';
  }
}

/**
 * Collects the events after `previous` (given in global order) into checkpoints of at most
 * `maxEvents` events, checking each link on the way: a chain that no longer reaches the previous
 * signed hash, or whose content no longer matches its hashes, is never signed.
 */
export class CheckpointBuilder {
  private tip: string | null;
  private last: ChainPoint | null;
  private start: ChainPoint | null;
  private fingerprints: string[] = [];
  private readonly done: Omit<Checkpoint, 'at'>[] = [];

  constructor(
    previous: ChainPoint | null,
    private readonly maxEvents = MAX_CHECKPOINT_EVENTS,
  ) {
    this.tip = previous?.hash ?? null;
    this.last = previous;
    this.start = previous;
  }

  /** The position after which events are read. */
  get after(): number {
    return this.last?.position ?? 0;
  }

  push(event: ChainedEvent): void {
    if (event.hash === null) {
      if (this.tip === null && event.prevHash === null) return;
      throw new ChainDoesNotContinueError(event.globalPosition, event.eventId, 'it carries no hash');
    }
    const expected = this.tip ?? GENESIS_HASH;
    if (event.prevHash !== expected) {
      throw new ChainDoesNotContinueError(
        event.globalPosition,
        event.eventId,
        `it links to ${event.prevHash ?? 'nothing'}, not to ${expected}`,
      );
    }
    if (eventHash(event.prevHash, event) !== event.hash) {
      throw new ChainDoesNotContinueError(
        event.globalPosition,
        event.eventId,
        'its content no longer matches its hash',
      );
    }
    this.tip = event.hash;
    this.last = { position: event.globalPosition, hash: event.hash };
    this.fingerprints.push(fingerprint(event.hash));
    if (this.fingerprints.length >= this.maxEvents) this.cut();
  }

  /**
   * The checkpoints completed since the last call, stamped `at`; with `partial` (the default), the
   * events pushed since the last full one make one more (none when nothing was pushed).
   */
  checkpoints(at: Date, { partial = true } = {}): Checkpoint[] {
    if (partial) this.cut();
    return this.done.splice(0).map((c) => ({ ...c, at: at.toISOString() }));
  }

  private cut(): void {
    if (this.fingerprints.length === 0 || this.last === null) return;
    this.done.push({
      version: 1,
      position: this.last.position,
      hash: this.last.hash,
      previous: this.start,
      count: this.fingerprints.length,
      fingerprints: this.fingerprints,
    });
    this.start = this.last;
    this.fingerprints = [];
  }
}

/** A checkpoint key: Ed25519 (JWS alg EdDSA, RFC 8037) or P-256 (ES256). */
export interface CheckpointSigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privateKey: KeyObject;
  publicJwk: JWK;
}

export interface CheckpointVerificationKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  publicKey: KeyObject;
}

function algOf(key: KeyObject): 'EdDSA' | 'ES256' {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error('a checkpoint key must be Ed25519 (preferred) or EC P-256');
}

function parseKey(material: string, kind: 'private' | 'public'): KeyObject {
  const text = material.trim();
  if (text.startsWith('{')) {
    let jwk: JWK;
    try {
      jwk = JSON.parse(text) as JWK;
    } catch {
      throw new Error('a checkpoint key given as JSON must be a JWK (RFC 7517)');
    }
    if (kind === 'private' && jwk.d === undefined)
      throw new Error('the checkpoint signing key is a public JWK');
    return kind === 'private' || jwk.d !== undefined
      ? createPrivateKey({ key: jwk as never, format: 'jwk' })
      : createPublicKey({ key: jwk as never, format: 'jwk' });
  }
  if (text.startsWith('-----BEGIN')) {
    return kind === 'private' || text.includes('PRIVATE KEY')
      ? createPrivateKey(text)
      : createPublicKey(text);
  }
  throw new Error('a checkpoint key must be a JWK (JSON) or a PEM (PKCS #8 private key, SPKI public key)');
}

async function kidOf(publicJwk: JWK): Promise<string> {
  // RFC 7638: the JWK thumbprint names the key, whatever `kid` the file carried.
  return calculateJwkThumbprint(publicJwk, 'sha256');
}

/** The signing key from a private JWK or a PKCS #8 PEM. */
export async function checkpointSigningKey(material: string): Promise<CheckpointSigningKey> {
  const privateKey = parseKey(material, 'private');
  if (privateKey.type !== 'private') throw new Error('the checkpoint signing key is not a private key');
  const alg = algOf(privateKey);
  const { kty, crv, x, y } = await exportJWK(createPublicKey(privateKey));
  const publicJwk: JWK = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
  return { kid: await kidOf(publicJwk), alg, privateKey, publicJwk: { ...publicJwk, alg } };
}

/** The verification key from a public JWK or SPKI PEM, or from the private key (its public half). */
export async function checkpointVerificationKey(material: string): Promise<CheckpointVerificationKey> {
  const key = parseKey(material, 'public');
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const alg = algOf(publicKey);
  const { kty, crv, x, y } = await exportJWK(publicKey);
  return { kid: await kidOf(y === undefined ? { kty, crv, x } : { kty, crv, x, y }), alg, publicKey };
}

/** A new Ed25519 key pair: the private JWK (for AUDIT_CHECKPOINT_SIGNING_KEY) and the public one. */
export async function generateCheckpointKey(): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const key = await checkpointSigningKey(JSON.stringify(jwk));
  return {
    kid: key.kid,
    privateJwk: { ...jwk, kid: key.kid, alg: key.alg },
    publicJwk: { ...key.publicJwk, kid: key.kid },
  };
}

/** The checkpoint as a compact JWS (RFC 7515 §7.1). */
export async function signCheckpoint(checkpoint: Checkpoint, key: CheckpointSigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(checkpoint)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: CHECKPOINT_TYP })
    .sign(key.privateKey);
}

/** Why a checkpoint was not accepted. */
export class CheckpointRejectedError extends Error {
  constructor(
    readonly kind: 'signature' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointRejectedError';
  }
}

/** The checkpoint of a compact JWS, once its signature by `key` and its form are checked. */
export async function readCheckpoint(jws: string, key: CheckpointVerificationKey): Promise<Checkpoint> {
  let payload: Uint8Array;
  try {
    const verified = await compactVerify(jws.trim(), key.publicKey, { algorithms: [key.alg] });
    if (verified.protectedHeader.typ !== CHECKPOINT_TYP) {
      throw new CheckpointRejectedError(
        'malformed',
        `not a checkpoint (typ ${verified.protectedHeader.typ})`,
      );
    }
    payload = verified.payload;
  } catch (err) {
    if (err instanceof CheckpointRejectedError) throw err;
    const kid = headerKid(jws);
    const other = kid !== undefined && kid !== key.kid ? `, signed by another key (kid ${kid})` : '';
    throw new CheckpointRejectedError(
      'signature',
      `signature does not verify with the checkpoint key (kid ${key.kid})${other}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new CheckpointRejectedError('malformed', 'payload is not JSON');
  }
  return checkCheckpoint(value);
}

function headerKid(jws: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString()) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const isPosition = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

function checkCheckpoint(value: unknown): Checkpoint {
  const bad = (why: string) => new CheckpointRejectedError('malformed', `not a version 1 checkpoint: ${why}`);
  if (typeof value !== 'object' || value === null) throw bad('not an object');
  const c = value as Record<string, unknown>;
  if (c.version !== 1) throw bad('version');
  if (!isPosition(c.position)) throw bad('position');
  if (typeof c.hash !== 'string' || !HEX64.test(c.hash)) throw bad('hash');
  if (typeof c.at !== 'string' || Number.isNaN(Date.parse(c.at))) throw bad('at');
  const previous = c.previous as Record<string, unknown> | null;
  if (previous !== null) {
    if (typeof previous !== 'object' || !isPosition(previous.position) || typeof previous.hash !== 'string') {
      throw bad('previous');
    }
    if (!HEX64.test(previous.hash) || previous.position >= c.position) throw bad('previous');
  }
  if (!Array.isArray(c.fingerprints) || !c.fingerprints.every((f) => typeof f === 'string')) {
    throw bad('fingerprints');
  }
  if (c.count !== c.fingerprints.length) throw bad('count');
  return {
    version: 1,
    position: c.position,
    hash: c.hash,
    at: c.at,
    previous:
      previous === null ? null : { position: previous.position as number, hash: previous.hash as string },
    count: c.count,
    fingerprints: c.fingerprints as string[],
  };
}
