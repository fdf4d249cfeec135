import { importJWK, type CryptoKey } from 'jose';
import { signAccessToken, type AccessTokenClaims } from './access-token.js';
import type { ActiveSigningKey, SigningKey } from './keyring.js';
import { openPrivateJwk } from './sealed-key.js';

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

  constructor(private readonly kek: Buffer) {}

  /** Signs with the keyring's active key (RFC 9068 §2.1 header, see `signAccessToken`). */
  async sign(key: ActiveSigningKey, claims: AccessTokenClaims): Promise<string> {
    return signAccessToken(claims, { kid: key.kid, alg: key.alg, privateKey: await this.privateKey(key) });
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
    const jwk = openPrivateJwk(key.sealedPrivateJwk, this.kek, key.kid);
    if (typeof jwk.d !== 'string')
      throw new PrivateKeyUnusable(key.kid, 'the sealed JWK holds no private key');
    const imported = await importJWK(jwk, key.alg, { extractable: false });
    if (imported instanceof Uint8Array) throw new PrivateKeyUnusable(key.kid, 'the sealed JWK is symmetric');
    return imported;
  }
}
