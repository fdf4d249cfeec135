import {
  CLIENT_EVENT_TYPES,
  CLIENT_FOLD,
  type ClientState,
  evolveInitialAccessToken,
  INITIAL_ACCESS_TOKEN_EVENT_TYPES,
  initialClientState,
  initialInitialAccessTokenState,
  type InitialAccessTokenState,
} from '#lib/domain-client';
import { createEventStoreDataSource, type EventStore, foldEvents, PgEventStore } from '#lib/event-store';
import { splitKid } from '#lib/keysets';

/** What still depends on one secret-hash key: it may be removed once nothing here names it. */
export interface HashKeyUsage {
  kid: string;
  /** Clients whose current secret is hashed under the key. */
  clientSecrets: string[];
  /** Clients whose previous secret, still in its grace period, is hashed under it. */
  previousSecrets: string[];
  /** Clients whose RFC 7592 registration access token is hashed under it. */
  registrationAccessTokens: string[];
  /** Initial access tokens (ids) not expired, revoked or used up, hashed under it. */
  initialAccessTokens: string[];
  /**
   * When the newest authorization code hashed under it was issued: its grant's refresh tokens keep
   * that key until the grant ends (at most the longest refresh-token lifetime later).
   */
  newestCodeIssuedAt: string | null;
}

const PAGE = 5000;

/**
 * Reads the log (the client and initial access token streams folded as their services fold them,
 * and every AuthorizationCodeIssued) and names, per key id, what is still stored under it
 * (docs/operations.md: "Rotating the secret-hash, cookie and CSRF keys"). Read-only.
 */
export async function hashKeyUsage(store: EventStore, now: Date): Promise<HashKeyUsage[]> {
  const clients = new Map<string, ClientState>();
  const tokens = new Map<string, InitialAccessTokenState>();
  const codes = new Map<string, string>();
  const types = [...CLIENT_EVENT_TYPES, ...INITIAL_ACCESS_TOKEN_EVENT_TYPES, 'AuthorizationCodeIssued'];
  const clientTypes = new Set<string>(CLIENT_EVENT_TYPES);
  const tokenTypes = new Set<string>(INITIAL_ACCESS_TOKEN_EVENT_TYPES);
  for (let after = 0; ;) {
    const page = await store.readAllOfTypes(after, PAGE, types);
    for (const e of page.events) {
      if (clientTypes.has(e.type) && e.streamId.startsWith('client-')) {
        clients.set(
          e.streamId,
          foldEvents(CLIENT_FOLD, [e], clients.get(e.streamId) ?? initialClientState()),
        );
      } else if (tokenTypes.has(e.type)) {
        const held = tokens.get(e.streamId) ?? initialInitialAccessTokenState();
        tokens.set(e.streamId, evolveInitialAccessToken(held, e));
      } else if (e.type === 'AuthorizationCodeIssued') {
        const { codeHash, issuedAt } = e.data as { codeHash: string; issuedAt: string };
        const kid = splitKid(codeHash).kid;
        if ((codes.get(kid) ?? '') < issuedAt) codes.set(kid, issuedAt);
      }
    }
    if (page.through <= after) break;
    after = page.through;
  }
  const usage = new Map<string, HashKeyUsage>();
  const of = (hash: string) => {
    const { kid } = splitKid(hash);
    let u = usage.get(kid);
    if (u === undefined) {
      u = {
        kid,
        clientSecrets: [],
        previousSecrets: [],
        registrationAccessTokens: [],
        initialAccessTokens: [],
        newestCodeIssuedAt: null,
      };
      usage.set(kid, u);
    }
    return u;
  };
  for (const state of clients.values()) {
    if (state.status !== 'active' && state.status !== 'disabled') continue;
    if (state.secretHash !== null) of(state.secretHash).clientSecrets.push(state.clientId);
    if (
      state.previousSecretHash !== null &&
      state.previousSecretValidUntil !== null &&
      Date.parse(state.previousSecretValidUntil) > now.getTime()
    )
      of(state.previousSecretHash).previousSecrets.push(state.clientId);
    if (state.registrationAccessTokenHash !== null)
      of(state.registrationAccessTokenHash).registrationAccessTokens.push(state.clientId);
  }
  for (const [streamId, t] of tokens) {
    if (t.status !== 'created' || t.revokedAt !== null || Date.parse(t.expiresAt) <= now.getTime()) continue;
    if (t.maxUses !== null && t.uses >= t.maxUses) continue;
    // A token from before ids existed is found by the legacy pepper's HMAC of the whole token.
    of(t.tokenHash ?? '').initialAccessTokens.push(t.tokenHash === null ? streamId : t.id);
  }
  for (const [kid, issuedAt] of codes) {
    const u = of(kid === 'p0' ? '' : `${kid}.`);
    u.newestCodeIssuedAt = issuedAt;
  }
  for (const u of usage.values())
    for (const ids of [u.clientSecrets, u.previousSecrets, u.registrationAccessTokens, u.initialAccessTokens])
      ids.sort();
  return [...usage.values()].sort((a, b) => a.kid.localeCompare(b.kid));
}

export function formatHashKeyUsage(usage: readonly HashKeyUsage[]): string {
  if (usage.length === 0) return 'no stored secret or code names a key';
  const list = (ids: string[]) => (ids.length === 0 ? '0' : `${ids.length} (${ids.join(', ')})`);
  return usage
    .map((u) =>
      [
        `${u.kid}${u.kid === 'p0' ? ' (the legacy SECRET_PEPPER)' : ''}`,
        `  client secrets:             ${list(u.clientSecrets)}`,
        `  previous secrets in grace:  ${list(u.previousSecrets)}`,
        `  registration access tokens: ${list(u.registrationAccessTokens)}`,
        `  initial access tokens:      ${list(u.initialAccessTokens)}`,
        `  newest code issued:         ${u.newestCodeIssuedAt ?? 'none'}`,
      ].join('\n'),
    )
    .join('\n');
}

/** `audit hash-keys --json`: one entry per key id, snake_case. */
export function hashKeyUsageDocument(u: HashKeyUsage): Record<string, unknown> {
  return {
    kid: u.kid,
    client_secrets: u.clientSecrets,
    previous_secrets: u.previousSecrets,
    registration_access_tokens: u.registrationAccessTokens,
    initial_access_tokens: u.initialAccessTokens,
    newest_code_issued_at: u.newestCodeIssuedAt,
  };
}

export async function hashKeysReport(databaseUrl: string): Promise<HashKeyUsage[]> {
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 1, applicationName: 'cli audit hash-keys' });
  await ds.initialize();
  try {
    return await hashKeyUsage(new PgEventStore(ds), new Date());
  } finally {
    await ds.destroy();
  }
}
