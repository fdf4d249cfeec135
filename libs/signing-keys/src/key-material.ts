import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { SigningAlg } from './keyring-events.js';
import { sealPrivateJwk, type SealedPrivateJwk } from './sealed-key.js';

/** Everything `GenerateSigningKey` needs about a new key; the private half only sealed. */
export interface KeyMaterial {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  sealedPrivateJwk: SealedPrivateJwk;
}

/**
 * Generates a key pair and seals its private half under `kek`. Impure (randomness), so it runs in the
 * command handler, never inside `decide`. The kid is the RFC 7638 SHA-256 thumbprint of the public key.
 */
export async function generateKeyMaterial(alg: SigningAlg, kek: Buffer): Promise<KeyMaterial> {
  const { publicKey, privateKey } = await generateKeyPair(alg, keyPairOptions(alg));
  const publicMembers = await exportJWK(publicKey);
  // RFC 7638 §3: the thumbprint covers only the required public members, so kid is stable.
  const kid = await calculateJwkThumbprint(publicMembers, 'sha256');
  // RFC 7517 §4.2, §4.4, §4.5
  const publicJwk: JWK = { ...publicMembers, kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { kid, alg, publicJwk, sealedPrivateJwk: sealPrivateJwk(privateJwk, kek, kid) };
}

function keyPairOptions(alg: SigningAlg): { extractable: true; crv?: string; modulusLength?: number } {
  switch (alg) {
    case 'ES256':
      return { extractable: true };
    case 'EdDSA':
      // RFC 8037 §3.1
      return { extractable: true, crv: 'Ed25519' };
    case 'RS256':
      // RFC 7518 §3.3: 2048 bits or larger.
      return { extractable: true, modulusLength: 2048 };
    default: {
      const unknown: never = alg;
      throw new RangeError(`unsupported signing alg ${String(unknown)}`);
    }
  }
}
