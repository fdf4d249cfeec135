import { importJWK, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { signAccessToken, type AccessTokenClaims } from './access-token.js';
import type { ActiveSigningKey, SigningKey } from './keyring-state.js';
import { KeyDecryptionError, openPrivateJwk } from './sealed-key.js';

export class PrivateKeyUnusable extends Error {
  constructor(
    readonly kid: string,
    reason: string,
  ) {
    super(`private key ${kid} cannot sign: ${reason}`);
    this.name = 'PrivateKeyUnusable';
  }
}

type SealedKey = Pick<SigningKey, 'kid' | 'alg' | 'sealedPrivateJwk'>;

/**
 * Holds the imported private keys by kid. A sealed key is opened and imported once (the import is
 * cached as a promise, so concurrent first uses share it; a failed import is not cached). Imported
 * keys are not extractable.
 */
export class Signer {
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  /**
   * @param kek the key-encryption key (KEY_ENCRYPTION_KEY)
   * @param previousKeks keys tried, in order, when `kek` does not open a key: the KEK being replaced
   *   (KEY_ENCRYPTION_KEY_PREVIOUS), so that keys sealed before a KEK change keep signing until rotated out
   */
  constructor(
    private readonly kek: Buffer,
    private readonly previousKeks: readonly Buffer[] = [],
  ) {}

  /** Signs with the keyring's active key (RFC 9068 §2.1 header, see `signAccessToken`). */
  async sign(key: ActiveSigningKey, claims: AccessTokenClaims): Promise<string> {
    return signAccessToken(claims, { kid: key.kid, alg: key.alg, privateKey: await this.privateKey(key) });
  }

  /**
   * Signs an ID token with an active ID-token key (OpenID Connect Core §2: a JWS; `typ` JWT, RFC 7519
   * §5.1, so that it is never taken for an RFC 9068 access token).
   */
  async signIdToken(key: ActiveSigningKey, claims: JWTPayload): Promise<string> {
    if (key.purpose !== 'id_token') throw new PrivateKeyUnusable(key.kid, 'it is not an ID-token key');
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(await this.privateKey(key));
  }

  /**
   * Signs a logout token with an active ID-token key (OpenID Connect Back-Channel Logout 1.0 §2.4:
   * signed like the client's ID tokens, explicitly typed `logout+jwt` (§4.1) so that it cannot be
   * taken for an ID token or an access token).
   */
  async signLogoutToken(key: ActiveSigningKey, claims: JWTPayload): Promise<string> {
    if (key.purpose !== 'id_token') throw new PrivateKeyUnusable(key.kid, 'it is not an ID-token key');
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
      .sign(await this.privateKey(key));
  }

  privateKey(key: SealedKey): Promise<CryptoKey> {
    let pending = this.imported.get(key.kid);
    if (pending === undefined) {
      pending = this.import(key);
      this.imported.set(key.kid, pending);
      const settled = pending;
      settled.catch(() => {
        if (this.imported.get(key.kid) === settled) this.imported.delete(key.kid);
      });
    }
    return pending;
  }

  /** Drops every cached key whose kid is not listed (call with the active key after a rotation). */
  retainOnly(kids: Iterable<string>): void {
    const keep = new Set(kids);
    for (const kid of [...this.imported.keys()]) if (!keep.has(kid)) this.imported.delete(kid);
  }

  get cachedKids(): string[] {
    return [...this.imported.keys()];
  }

  private async import(key: SealedKey): Promise<CryptoKey> {
    const jwk = this.open(key);
    if (typeof jwk.d !== 'string')
      throw new PrivateKeyUnusable(key.kid, 'the sealed JWK holds no private key');
    const imported = await importJWK(jwk, key.alg, { extractable: false });
    if (imported instanceof Uint8Array) throw new PrivateKeyUnusable(key.kid, 'the sealed JWK is symmetric');
    return imported;
  }

  private open(key: SealedKey) {
    try {
      return openPrivateJwk(key.sealedPrivateJwk, this.kek, key.kid);
    } catch (err) {
      if (!(err instanceof KeyDecryptionError) || err.reason !== 'wrong_key_or_tampered') throw err;
      for (const previous of this.previousKeks) {
        try {
          return openPrivateJwk(key.sealedPrivateJwk, previous, key.kid);
        } catch {
          // the next one, else the first error
        }
      }
      throw err;
    }
  }
}
