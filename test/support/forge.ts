import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import { openPrivateJwk, type SealedPrivateJwk } from '#lib/signing-keys';
import type { RunningSystem } from './system.js';

/**
 * Grey-box: the system's active private signing key, opened from its event with the
 * KEY_ENCRYPTION_KEY the test started the system with. For attacks that need a token the server
 * would never issue (another audience, a user's admin scope) but that carries its real signature.
 */
export async function activePrivateKey(system: RunningSystem): Promise<{ kid: string; jwk: JWK }> {
  const db = new pg.Client({ connectionString: system.database.url });
  await db.connect();
  try {
    const { rows } = await db.query<{ type: string; data: Record<string, unknown> }>(
      `SELECT type, data FROM events WHERE stream_id = 'signing-keyring' ORDER BY stream_version`,
    );
    // The access-token key: ID-token keys (purpose id_token) never sign access tokens.
    const idTokenKids = new Set(
      rows
        .filter((r) => r.type === 'SigningKeyGenerated' && r.data.purpose === 'id_token')
        .map((r) => r.data.kid),
    );
    const active = rows.filter((r) => r.type === 'SigningKeyActivated' && !idTokenKids.has(r.data.kid)).pop()!
      .data.kid as string;
    const generated = rows.find((r) => r.type === 'SigningKeyGenerated' && r.data.kid === active)!;
    const kek = Buffer.from(system.env.KEY_ENCRYPTION_KEY!, 'base64url');
    return {
      kid: active,
      jwk: openPrivateJwk(generated.data.sealedPrivateJwk as SealedPrivateJwk, kek, active),
    };
  } finally {
    await db.end();
  }
}

/** An RFC 9068 access token signed with the system's active key, with the claims given. */
export async function forgeAccessToken(
  system: RunningSystem,
  claims: { sub: string; client_id: string; aud: string | string[]; scope: string; ttlSeconds?: number },
): Promise<string> {
  const { kid, jwk } = await activePrivateKey(system);
  const alg = jwk.alg ?? 'ES256';
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: claims.client_id, scope: claims.scope })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(system.issuer)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlSeconds ?? 300))
    .setJti(randomUUID())
    .sign(await importJWK(jwk, alg));
}
