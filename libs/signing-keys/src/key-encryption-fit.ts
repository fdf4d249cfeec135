import type { SigningKey, SigningKeyring } from './keyring-state.js';
import { KeyDecryptionError, openPrivateJwk } from './sealed-key.js';

/**
 * The keys that sign now or will (active and published) whose sealed private key none of `keks`
 * opens: a token service given these key-encryption keys could not sign with them. Retired keys
 * sign nothing and are not looked at. A key whose seal is malformed is left to the token service,
 * which names it; only a seal that does not open under any of the keys is reported here.
 */
export function keysSealedUnderOtherKeks(keyring: SigningKeyring, keks: readonly Buffer[]): SigningKey[] {
  return Object.values(keyring.keys).filter(
    (key) => key.status !== 'retired' && !keks.some((kek) => opens(key, kek)),
  );
}

function opens(key: SigningKey, kek: Buffer): boolean {
  try {
    openPrivateJwk(key.sealedPrivateJwk, kek, key.kid);
    return true;
  } catch (err) {
    if (err instanceof KeyDecryptionError && err.reason === 'wrong_key_or_tampered') return false;
    return true;
  }
}
