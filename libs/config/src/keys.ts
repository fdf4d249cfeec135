import { type Keyset, KeysetError, LEGACY_KID, namesLegacyKey, parseKeyset } from '#lib/keysets';
import { ConfigError, type Env, key32 } from './env.js';

/*
 * Keys per purpose (libs/keysets): each setting lists `kid:key` entries (32 bytes, base64url),
 * comma-separated, the first current (it hashes or seals what is made now), the others still
 * accepted until the operator removes them. `p0` without a key names the legacy SECRET_PEPPER,
 * which every purpose used before and which, while a setting is unset, is still that purpose's key.
 * docs/operations.md: "Rotating the secret-hash, cookie and CSRF keys".
 */

export interface SecretHashingConfig {
  /**
   * SECRET_HASH_KEYS: the HMAC-SHA-256 keys under which bearer secrets are stored (RFC 6819
   * §5.1.4.1.3: hashed, never in clear): client secrets, registration access tokens, initial access tokens, authorization
   * codes and refresh tokens; and the key of the login throttle's records. A stored hash names
   * its key (`<kid>.<hash>`); a grant's codes and refresh tokens all use the key its code was
   * hashed under. Unset: the legacy SECRET_PEPPER.
   */
  secretHashKeys: Keyset;
}

export interface CookieKeysConfig {
  /**
   * COOKIE_SEALING_KEYS: the keys that seal (AES-256-GCM) the login session cookie and the
   * authorization transaction the login and consent pages carry. A sealed value names its key
   * (`<kid>.<sealed>`). Only the consent service holds them. Unset: derived from SECRET_PEPPER.
   */
  cookieSealingKeys: Keyset;
  /**
   * CSRF_KEYS: the HMAC keys of the CSRF tokens of the login, consent and account forms (RFC 6749
   * §10.12), each token naming its key. Only the consent service holds them. Unset: derived from
   * SECRET_PEPPER.
   */
  csrfKeys: Keyset;
}

/** The settings of keys per purpose, each with what it keys. */
const KEYSETS = {
  secretHashKeys: ['SECRET_HASH_KEYS', 'the HMAC keys of stored client secrets and tokens'],
  cookieSealingKeys: ['COOKIE_SEALING_KEYS', 'the keys that seal the login session cookie'],
  csrfKeys: ['CSRF_KEYS', 'the keys of the CSRF tokens of the login and consent forms'],
} as const;

/**
 * One purpose's keyset. A key (other than the legacy pepper's) given to two purposes is refused
 * where both settings are present: the keys of one purpose must forge nothing for another.
 */
export function keysetOf(env: Env, name: keyof typeof KEYSETS): Keyset {
  const [setting, purpose] = KEYSETS[name];
  // The legacy pepper is read (and must be valid) only where this setting still uses it.
  const legacyKey =
    env.SECRET_PEPPER && namesLegacyKey(env[setting])
      ? key32(env, 'SECRET_PEPPER', 'the legacy key of every purpose')
      : undefined;
  let keys: Keyset;
  try {
    keys = parseKeyset(env[setting], { setting, ...(legacyKey ? { legacyKey } : {}) });
  } catch (err) {
    if (err instanceof KeysetError) throw new ConfigError(`${err.message} (${purpose})`);
    throw err;
  }
  for (const [other, [otherSetting]] of Object.entries(KEYSETS)) {
    if (other === name || !env[otherSetting]) continue;
    const theirs = new Set(
      env[otherSetting]
        .split(',')
        .map((e) => e.trim().split(':')[1])
        .filter(Boolean),
    );
    for (const k of keys.keys) {
      if (k.kid !== LEGACY_KID && theirs.has(k.key.toString('base64url')))
        throw new ConfigError(
          `${setting} and ${otherSetting} share the key ${k.kid}: give each purpose its own key`,
        );
    }
  }
  return keys;
}

/** KEY_ENCRYPTION_KEY and KEY_ENCRYPTION_KEY_PREVIOUS (SigningKeyConfig), read when first used. */
export function readKeyEncryptionKey(env: Env): Buffer {
  return key32(env, 'KEY_ENCRYPTION_KEY', 'encrypts private signing keys at rest');
}

export function readPreviousKeyEncryptionKeys(env: Env): Buffer[] {
  return env.KEY_ENCRYPTION_KEY_PREVIOUS
    ? [key32(env, 'KEY_ENCRYPTION_KEY_PREVIOUS', 'the key-encryption key being replaced')]
    : [];
}

/** The key of pairwise subject identifiers (OpenID Connect Core §8.1). */
export interface PairwiseSubjectConfig {
  /**
   * PAIRWISE_SUBJECT_KEY: 32 bytes, base64url, for the token and introspection services. A pairwise
   * client's `sub` is an HMAC under it of the sector identifier and the user: changing it changes
   * every pairwise `sub`, so it is never rotated. Required only once a pairwise client signs a user in.
   */
  pairwiseSubjectKey: Buffer;
}

export function readPairwiseSubjectKey(env: Env): Buffer {
  return key32(env, 'PAIRWISE_SUBJECT_KEY', 'derives pairwise subject identifiers, OpenID Connect Core §8.1');
}

/** The key-encryption key of personal data (docs/privacy-and-retention.md). */
export interface PersonalDataConfig {
  /**
   * PERSONAL_DATA_KEY: 32 bytes, base64url, for the consent service. Wraps each person's data key
   * and keys the username index; losing it makes every sealed personal field unreadable.
   */
  personalDataKey: Buffer;
}

export function readPersonalDataKey(env: Env): Buffer {
  return key32(env, 'PERSONAL_DATA_KEY', "wraps each person's data key, GDPR Art. 17 erasure");
}
