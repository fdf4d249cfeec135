import {
  decideGrant,
  grantIdOf,
  grantStreamId,
  grantTokenHasher,
  hashGrantToken,
  initialGrantState,
  mintGrantToken,
  newGrantId,
  GRANT_FOLD,
} from '#lib/domain-grant';
import {
  createEventStoreDataSource,
  type NewEvent,
  PgEventStore,
  type RecordedEvent,
  foldEvents,
} from '#lib/event-store';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
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

/**
 * `count` rotations of a redeemed grant's refresh-token family, decided by the grant's own decider
 * (RotateRefreshToken, as the token service decides them) and appended to the system's store in
 * batches, each at the version it was decided on: the history a client that refreshed `count`
 * times would leave, in seconds instead of minutes of requests. Returns the current token and the
 * family's first three tokens (rotated, for reuse checks).
 */
export async function seedRotations(
  system: RunningSystem,
  o: { current: string; clientId: string; count: number; batch?: number },
): Promise<{ current: string; early: string[] }> {
  const grantId = grantIdOf(o.current);
  if (grantId === null) throw new Error('not a refresh token');
  const dataSource = createEventStoreDataSource(system.database.url, {
    poolSize: 1,
    applicationName: 'seed-rotations',
  });
  await dataSource.initialize();
  try {
    const store = new PgEventStore(dataSource);
    const streamId = grantStreamId(grantId);
    const events = await store.readStream(streamId);
    let state = foldEvents(GRANT_FOLD, events);
    let version = events[events.length - 1]!.streamVersion;
    const hash = grantTokenHasher(system.secretHashKeys, state);
    let current = o.current;
    const early: string[] = [];
    let pending: NewEvent[] = [];
    for (let i = 0; i < o.count; i++) {
      const next = mintGrantToken(grantId);
      const { events: rotated, refusal: error } = decideGrant(
        {
          type: 'RotateRefreshToken',
          presentedHash: hash(current),
          clientId: o.clientId,
          scope: undefined,
          clientScope: state.status === 'none' ? [] : state.grant.scope,
          newHash: hash(next),
          idleTtlSeconds: 86_400,
          accessTokenJti: randomUUID(),
          reuseGraceSeconds: 0,
          presentedWasIssued: true,
          maxRotations: Number.MAX_SAFE_INTEGER,
          now: new Date(),
        },
        state,
      );
      if (error !== null) throw error;
      for (const e of rotated) {
        state = foldEvents(
          GRANT_FOLD,
          [{ ...e, streamVersion: version + pending.length + 1 } as RecordedEvent],
          state,
        );
        pending.push({ ...e, metadata: { actor: `client:${o.clientId}` } });
      }
      if (early.length < 3) early.push(current);
      current = next;
      if (pending.length >= (o.batch ?? 1000) || i === o.count - 1) {
        version = (await store.appendToStream(streamId, version, pending)).nextExpectedVersion;
        pending = [];
      }
    }
    return { current, early };
  } finally {
    await dataSource.destroy();
  }
}
