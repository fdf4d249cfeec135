import { z } from 'zod';
import { type Keyset, KeysetError, LEGACY_KID, namesLegacyKey, parseKeyset } from '#lib/keysets';
import { key32, problem, settings } from './env.js';

/*
 * Keys per purpose (libs/keysets): each setting lists `kid:key` entries (32 bytes, base64url),
 * comma-separated, the first current (it hashes or seals what is made now), the others still
 * accepted until the operator removes them. `p0` without a key names the legacy SECRET_PEPPER,
 * which every purpose used before and which, while a setting is unset, is still that purpose's key.
 * docs/operations.md: "Rotating the secret-hash, cookie and CSRF keys".
 */

/** The settings of keys per purpose, each with what it keys. */
const KEYSETS = {
  /**
   * SECRET_HASH_KEYS: the HMAC-SHA-256 keys under which bearer secrets are stored (RFC 6819
   * §5.1.4.1.3: hashed, never in clear): client secrets, registration access tokens, initial access tokens, authorization
   * codes and refresh tokens; and the key of the login throttle's records. A stored hash names
   * its key (`<kid>.<hash>`); a grant's codes and refresh tokens all use the key its code was
   * hashed under. Unset: the legacy SECRET_PEPPER.
   */
  secretHashKeys: ['SECRET_HASH_KEYS', 'the HMAC keys of stored client secrets and tokens'],
  /**
   * COOKIE_SEALING_KEYS: the keys that seal (AES-256-GCM) the login session cookie and the
   * authorization transaction the login and consent pages carry. A sealed value names its key
   * (`<kid>.<sealed>`). Only the consent service holds them. Unset: derived from SECRET_PEPPER.
   */
  cookieSealingKeys: ['COOKIE_SEALING_KEYS', 'the keys that seal the login session cookie'],
  /**
   * CSRF_KEYS: the HMAC keys of the CSRF tokens of the login, consent and account forms (RFC 6749
   * §10.12), each token naming its key. Only the consent service holds them. Unset: derived from
   * SECRET_PEPPER.
   */
  csrfKeys: ['CSRF_KEYS', 'the keys of the CSRF tokens of the login and consent forms'],
} as const;

const keySettings = z.object({
  SECRET_HASH_KEYS: z.string().optional(),
  COOKIE_SEALING_KEYS: z.string().optional(),
  CSRF_KEYS: z.string().optional(),
  SECRET_PEPPER: z.string().optional(),
});

/**
 * One purpose's keyset, read when first used. A key (other than the legacy pepper's) given to two
 * purposes is refused where both settings are present: the keys of one purpose must forge nothing
 * for another.
 */
export function keysetSettings<N extends keyof typeof KEYSETS>(name: N) {
  const [setting, purpose] = KEYSETS[name];
  return keySettings.transform((env, ctx) => {
    // The legacy pepper is read (and must be valid) only where this setting still uses it.
    let legacyKey: Buffer | undefined;
    if (env.SECRET_PEPPER && namesLegacyKey(env[setting])) {
      const pepper = key32('the legacy key of every purpose').safeParse(env.SECRET_PEPPER);
      if (!pepper.success) {
        problem(ctx, 'SECRET_PEPPER', pepper.error.issues[0]!.message);
        return z.NEVER;
      }
      legacyKey = pepper.data;
    }
    let keys: Keyset;
    try {
      keys = parseKeyset(env[setting], { setting, ...(legacyKey ? { legacyKey } : {}) });
    } catch (err) {
      if (!(err instanceof KeysetError)) throw err;
      problem(ctx, setting, `${err.message} (${purpose})`);
      return z.NEVER;
    }
    for (const [other, [otherSetting]] of Object.entries(KEYSETS)) {
      const theirs = new Set((env[otherSetting] ?? '').split(',').map((e) => e.trim().split(':')[1]));
      const shared = keys.keys.find((k) => k.kid !== LEGACY_KID && theirs.has(k.key.toString('base64url')));
      if (other !== name && shared)
        problem(
          ctx,
          setting,
          `${setting} and ${otherSetting} share the key ${shared.kid}: give each purpose its own key`,
        );
    }
    return { [name]: keys } as Record<N, Keyset>;
  });
}

export type SecretHashingConfig = Record<'secretHashKeys', Keyset>;
export type CookieKeysConfig = Record<'cookieSealingKeys' | 'csrfKeys', Keyset>;

/** KEY_ENCRYPTION_KEY and KEY_ENCRYPTION_KEY_PREVIOUS (SigningKeyConfig), read when first used. */
export const keyEncryptionKeySettings = settings({
  /**
   * KEY_ENCRYPTION_KEY: 32 bytes, base64url. Private signing keys are stored in events encrypted
   * with AES-256-GCM under this key.
   */
  keyEncryptionKey: ['KEY_ENCRYPTION_KEY', key32('encrypts private signing keys at rest')],
});

export const previousKeyEncryptionKeySettings = settings({
  /**
   * KEY_ENCRYPTION_KEY_PREVIOUS: optional, 32 bytes, base64url. The key-encryption key being replaced:
   * private keys sealed under it still open until they are rotated out (docs/signing-keys.md).
   */
  previousKeyEncryptionKeys: [
    'KEY_ENCRYPTION_KEY_PREVIOUS',
    key32('the key-encryption key being replaced')
      .optional()
      .transform((k) => (k ? [k] : [])),
  ],
});

/** The key of pairwise subject identifiers (OpenID Connect Core §8.1). */
export const pairwiseSubjectSettings = settings({
  /**
   * PAIRWISE_SUBJECT_KEY: 32 bytes, base64url, for the token and introspection services. A pairwise
   * client's `sub` is an HMAC under it of the sector identifier and the user: changing it changes
   * every pairwise `sub`, so it is never rotated. Required only once a pairwise client signs a user in.
   */
  pairwiseSubjectKey: [
    'PAIRWISE_SUBJECT_KEY',
    key32('derives pairwise subject identifiers, OpenID Connect Core §8.1'),
  ],
});

export type PairwiseSubjectConfig = z.output<typeof pairwiseSubjectSettings>;

/** The key-encryption key of personal data (docs/privacy-and-retention.md). */
export const personalDataSettings = settings({
  /**
   * PERSONAL_DATA_KEY: 32 bytes, base64url, for the consent service. Wraps each person's data key
   * and keys the username index; losing it makes every sealed personal field unreadable.
   */
  personalDataKey: ['PERSONAL_DATA_KEY', key32("wraps each person's data key, GDPR Art. 17 erasure")],
});

export type PersonalDataConfig = z.output<typeof personalDataSettings>;
