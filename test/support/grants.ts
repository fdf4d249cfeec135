import {
  decideGrant,
  grantStreamId,
  hashGrantToken,
  initialGrantState,
  mintGrantToken,
  newGrantId,
} from '#lib/domain-grant';
import { createEventStoreDataSource, PgEventStore } from '#lib/event-store';
import { createHash, randomBytes } from 'node:crypto';
import type { RunningSystem } from './system.js';

/**
 * Authorization codes for token-side tests, issued the way the consent service does once the
 * user has consented: IssueAuthorizationCode decided on a new grant stream `grant-<grantId>`,
 * appended to the system's own database, the code stored only as its HMAC under the system's
 * current SECRET_HASH_KEYS key. Keeps the token endpoint's tests independent of the login and consent pages.
 */
export interface SeedAuthorizationCode {
  clientId: string;
  /** The redirect URI the code was delivered to. */
  deliveredTo: string;
  /** The redirect_uri sent at /authorize; null when omitted. Default: deliveredTo. */
  redirectUri?: string | null;
  scope: string[];
  /** RFC 7636 code_challenge (S256); null: none (a client registered with require_pkce false). */
  codeChallenge: string | null;
  /** RFC 8707 resource indicators of the authorization request. */
  resource?: string[];
  sub?: string;
  username?: string;
  ttlSeconds?: number;
}

export async function seedAuthorizationCode(
  system: RunningSystem,
  o: SeedAuthorizationCode,
): Promise<string> {
  const grantId = newGrantId();
  const code = mintGrantToken(grantId);
  const now = new Date();
  const { events } = decideGrant(
    {
      type: 'IssueAuthorizationCode',
      grantId,
      clientId: o.clientId,
      sub: o.sub ?? 'sub-alice',
      username: o.username ?? 'alice',
      scope: o.scope,
      ...(o.resource ? { resource: o.resource } : {}),
      redirectUri: o.redirectUri === undefined ? o.deliveredTo : o.redirectUri,
      deliveredTo: o.deliveredTo,
      codeChallenge: o.codeChallenge,
      codeHash: hashGrantToken(code, system.secretHashKeys),
      authTime: Math.floor(now.getTime() / 1000),
      now,
      ttlSeconds: o.ttlSeconds ?? 60,
    },
    initialGrantState(),
  );
  const dataSource = createEventStoreDataSource(system.database.url, {
    poolSize: 1,
    applicationName: 'seed-code',
  });
  await dataSource.initialize();
  try {
    await new PgEventStore(dataSource).appendToStream(
      grantStreamId(grantId),
      0,
      events.map((e) => ({ ...e, metadata: { actor: `user:${o.sub ?? 'sub-alice'}` } })),
    );
  } finally {
    await dataSource.destroy();
  }
  return code;
}

/** A fresh RFC 7636 verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
