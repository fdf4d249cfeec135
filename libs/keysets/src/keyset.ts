import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Keys per purpose, each with a key id, so that a key can be rotated while the one it replaces is
 * still accepted for a grace period. An operator's setting lists the keys of one purpose:
 *
 *     SECRET_HASH_KEYS=h2:<32 bytes, base64url>,h1:<32 bytes, base64url>
 *
 * The first key is current (it hashes and seals what is made now); the others are accepted (what
 * they hashed or sealed still verifies or opens) until the operator removes them. A value made
 * under a key carries its key id in clear, `<kid>.<value>`, so that the key to check it with is
 * found without trying each one.
 *
 * The key `p0` is the legacy SECRET_PEPPER, named in a setting without a key (`h1:…,p0`): what
 * was made before key ids existed carries no key id and is checked with it, and what it makes
 * while it is current carries none either, exactly as before, so that an installation that sets
 * none of the new settings keeps working unchanged.
 */
export interface Key {
  readonly kid: string;
  readonly key: Buffer;
}

/** The key id of the legacy SECRET_PEPPER; values made under it carry no key id. */
export const LEGACY_KID = 'p0';

/** A key id: short, and free of the `.` that ends it in a value and of the `:` and `,` of a setting. */
const KID = /^[A-Za-z0-9_-]{1,16}$/;
const KEY = /^[A-Za-z0-9_-]{43}$/;
const HMAC_SHA256 = /^[A-Za-z0-9_-]{43}$/;

export class KeysetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeysetError';
  }
}

export class Keyset {
  private readonly byKid: ReadonlyMap<string, Key>;

  /** `keys[0]` is current; every key is accepted. */
  constructor(readonly keys: readonly Key[]) {
    if (keys.length === 0) throw new KeysetError('a keyset needs at least one key');
    const byKid = new Map<string, Key>();
    for (const k of keys) {
      if (!KID.test(k.kid)) throw new KeysetError(`"${k.kid}" is not a key id (1 to 16 of A-Z a-z 0-9 _ -)`);
      if (byKid.has(k.kid)) throw new KeysetError(`the key id ${k.kid} is listed twice`);
      byKid.set(k.kid, k);
    }
    this.byKid = byKid;
  }

  get current(): Key {
    return this.keys[0]!;
  }

  /** The accepted key of this id, or undefined. */
  find(kid: string): Key | undefined {
    return this.byKid.get(kid);
  }

  /** The key ids, current first (nothing secret: for logs and checks). */
  get kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  /** A keyset logged or serialised shows its key ids, never a key. */
  toJSON(): { kids: string[] } {
    return { kids: this.kids };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Keyset(${this.kids.join(', ')})`;
  }

  /**
   * The same keys, each replaced by HKDF-SHA-256(key, info) (RFC 5869): one purpose's keyset gives
   * independent keys to its sub-purposes (the two sealed values of the consent service).
   */
  derive(info: string): Keyset {
    return new Keyset(this.keys.map(({ kid, key }) => ({ kid, key: deriveKey(key, info) })));
  }
}

/** RFC 5869 HKDF-SHA-256 with an empty salt: a key for one use of `key`, named by `info`. */
export function deriveKey(key: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
}

/**
 * Reads a setting (`kid:base64url-32-bytes`, comma-separated, current first; `p0` alone names the
 * legacy key). Unset or empty, the legacy key alone is the keyset.
 */
export function parseKeyset(
  text: string | undefined,
  options: { setting: string; legacyKey?: Buffer },
): Keyset {
  const { setting, legacyKey } = options;
  const entries = (text ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) entries.push(LEGACY_KID);
  const keys = entries.map((entry): Key => {
    if (entry === LEGACY_KID) {
      if (legacyKey === undefined)
        throw new KeysetError(
          text
            ? `${setting} names ${LEGACY_KID}, the legacy SECRET_PEPPER, which is not set`
            : `${setting} is not set (nor the legacy SECRET_PEPPER)`,
        );
      return { kid: LEGACY_KID, key: legacyKey };
    }
    const colon = entry.indexOf(':');
    const kid = colon < 0 ? entry : entry.slice(0, colon);
    const value = colon < 0 ? '' : entry.slice(colon + 1);
    if (!KID.test(kid))
      throw new KeysetError(`${setting}: "${kid}" is not a key id (1 to 16 of A-Z a-z 0-9 _ -)`);
    if (kid === LEGACY_KID)
      throw new KeysetError(`${setting}: ${LEGACY_KID} is the legacy SECRET_PEPPER; name it without a key`);
    if (!KEY.test(value)) throw new KeysetError(`${setting}: the key ${kid} must be 32 bytes, base64url`);
    return { kid, key: Buffer.from(value, 'base64url') };
  });
  try {
    return new Keyset(keys);
  } catch (err) {
    throw err instanceof KeysetError ? new KeysetError(`${setting}: ${err.message}`) : err;
  }
}

/** Whether a setting (as parseKeyset reads it) uses the legacy SECRET_PEPPER: unset, or naming p0. */
export function namesLegacyKey(text: string | undefined): boolean {
  const entries = (text ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries.length === 0 || entries.includes(LEGACY_KID);
}

/** `<kid>.<value>`, or the bare value under the legacy key (as it was made before key ids). */
export function withKid(kid: string, value: string): string {
  return kid === LEGACY_KID ? value : `${kid}.${value}`;
}

/**
 * The key id a value names and the value without it. A value without one is the legacy key's: the
 * values carried here (base64url hashes, sealed values, MACs) never hold a `.` themselves.
 */
export function splitKid(tagged: string): { kid: string; value: string } {
  const dot = tagged.indexOf('.');
  if (dot < 0) return { kid: LEGACY_KID, value: tagged };
  return { kid: tagged.slice(0, dot), value: tagged.slice(dot + 1) };
}

function hmac(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
}

/** HMAC-SHA-256 of `message` under the current key (or the key `kid`), tagged with its key id. */
export function keyedHash(keys: Keyset, message: string, kid: string = keys.current.kid): string {
  const key = keys.find(kid);
  if (key === undefined) throw new KeysetError(`no key ${kid} in the keyset`);
  return withKid(key.kid, hmac(key.key, message));
}

/**
 * Whether `stored` (a keyedHash) is the hash of `message`, compared in constant time. A hash under
 * a key that is not (or no longer) accepted does not match, after the same HMAC under the current
 * key, so that the answer takes the same time.
 */
export function keyedHashMatches(keys: Keyset, message: string, stored: string): boolean {
  const { kid, value } = splitKid(stored);
  const key = keys.find(kid);
  const computed = Buffer.from(hmac((key ?? keys.current).key, message), 'base64url');
  const expected = HMAC_SHA256.test(value) ? Buffer.from(value, 'base64url') : Buffer.alloc(32);
  return timingSafeEqual(computed, expected) && key !== undefined && HMAC_SHA256.test(value);
}
