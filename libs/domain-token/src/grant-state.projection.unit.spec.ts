import { Keyset } from '#lib/keysets';
import { publishedForm } from '#lib/contracts';
import { InMemoryEventStore, type RecordedEvent } from '#lib/event-store';
import { ScriptedGrant, scriptGrantLife } from './testing/grant-life.js';
import {
  effectiveTokenState,
  GRANT_STATE,
  grantStateProjection,
  type GrantStateRow,
  tokenStateProjection,
  type TokenStateRow,
} from './token-state.projection.js';

/** What the runner does for both projections of the introspection service (no I/O). */
function project(events: readonly RecordedEvent[]) {
  const tokens = new Map<string, TokenStateRow>();
  const grants = new Map<string, GrantStateRow>();
  const fold = <Row>(
    p: typeof tokenStateProjection | typeof grantStateProjection,
    rows: Map<string, Row>,
    e: RecordedEvent,
  ) => {
    const key = p.keyOf(e);
    if (key === null) return;
    const next = (p.evolve as (r: Row | null, e: RecordedEvent) => Row | null)(rows.get(key) ?? null, e);
    if (next === null) rows.delete(key);
    else rows.set(key, next);
  };
  for (const e of events) {
    fold(tokenStateProjection, tokens, e);
    fold(grantStateProjection, grants, e);
  }
  const effective = (jti: string) => {
    const t = tokens.get(jti) ?? null;
    return effectiveTokenState(t, t?.grantId ? (grants.get(t.grantId) ?? null) : null);
  };
  return { tokens, grants, effective };
}

const owner = {
  clientId: 'c1',
  sub: 'u-123',
  username: 'alice',
  scope: ['read', 'write'],
  aud: ['https://api.test'],
  redirectUri: 'https://c1.test/cb',
};
const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 7) }]);

async function life(stopBeforeReuse = false) {
  const store = new InMemoryEventStore();
  const grant = new ScriptedGrant(store, keys, owner);
  if (stopBeforeReuse) {
    await grant.consent();
    await grant.issueCode();
    await grant.redeem();
    await grant.rotate();
  } else {
    await scriptGrantLife(grant, 0);
  }
  return { grant, events: await store.readAll(0, 1000) };
}

describe('grant_state projection: a GrantRevoked revokes every access token of the grant', () => {
  it('is named grant_state and keys grant events and grant-bound access tokens by grantId', async () => {
    expect(grantStateProjection.name).toBe(GRANT_STATE);
    const { grant, events } = await life();
    const keyed = events.filter((e) => grantStateProjection.keyOf(e) !== null);
    expect(new Set(keyed.map((e) => grantStateProjection.keyOf(e)))).toEqual(new Set([grant.grantId]));
    // Consent events and the reuse record do not concern it.
    expect(
      events.filter((e) => e.type === 'ConsentGranted').map((e) => grantStateProjection.keyOf(e)),
    ).toEqual([null]);
  });

  it('token_state rows carry grantId, not the username (personal data, not published)', async () => {
    const { grant, events } = await life(true);
    const { tokens } = project(events);
    for (const at of grant.accessTokens) {
      expect(tokens.get(at.jti)).toMatchObject({ grantId: grant.grantId, status: 'active' });
      expect(tokens.get(at.jti)).not.toHaveProperty('username');
    }
  });

  it('before the reuse every access token is active; after it every one is revoked (RT-02, INT-07)', async () => {
    const before = await life(true);
    const p1 = project(before.events);
    expect(before.grant.accessTokens).toHaveLength(2);
    for (const at of before.grant.accessTokens) expect(p1.effective(at.jti)?.status).toBe('active');

    const after = await life();
    const p2 = project(after.events);
    expect(after.grant.accessTokens).toHaveLength(4);
    expect(p2.grants.get(after.grant.grantId)).toMatchObject({
      status: 'revoked',
      reason: 'refresh_token_reuse',
    });
    for (const at of after.grant.accessTokens) {
      expect(p2.effective(at.jti)).toMatchObject({ status: 'revoked' });
      // The token's own row is untouched: the revocation is the grant's.
      expect(p2.tokens.get(at.jti)?.status).toBe('active');
    }
  });

  it('the row lives as long as the longest-lived thing of the grant (the refresh family)', async () => {
    const { grant, events } = await life(true);
    const row = project(events).grants.get(grant.grantId)!;
    const maxExp = Math.max(...grant.accessTokens.map((a) => a.exp));
    expect(row.expiresAt).toBeGreaterThanOrEqual(maxExp);
    expect(grantStateProjection.expiresAt!(row)).toBe(row.expiresAt * 1000);
    expect(row.expiresAt - Math.floor(Date.now() / 1000)).toBeGreaterThan(29 * 86_400);
  });

  it('a GrantRevoked for a grant whose row is gone (expired) creates no row; a second one changes nothing', async () => {
    const { events } = await life();
    const revoked = events.find((e) => e.type === 'GrantRevoked')!;
    expect(grantStateProjection.evolve(null, revoked)).toBeNull();
    const row: GrantStateRow = {
      grantId: 'g',
      status: 'revoked',
      expiresAt: 1,
      revokedAt: 'x',
      reason: 'code_replay',
    };
    expect(grantStateProjection.evolve(row, revoked)).toBe(row);
  });

  it('a client-credentials token (no grantId) is not keyed and never revoked by a grant', () => {
    const token: TokenStateRow = {
      jti: 'a',
      clientId: 's1',
      sub: 's1',
      aud: [],
      scope: [],
      grantType: 'client_credentials',
      iat: 1,
      exp: 2,
      status: 'active',
      issuedAtPosition: 1,
    };
    const revokedGrant: GrantStateRow = { grantId: 'g', status: 'revoked', expiresAt: 9, revokedAt: 'x' };
    expect(effectiveTokenState(token, null)).toBe(token);
    expect(effectiveTokenState({ ...token, grantId: 'g' }, revokedGrant)).toMatchObject({
      status: 'revoked',
      revokedAt: 'x',
    });
    expect(effectiveTokenState(null, revokedGrant)).toBeNull();
  });

  it('folds the same rows from the published forms (the JetStream feed) as from the stored events (a rebuild)', async () => {
    const { events } = await life();
    const stored = project(events);
    const published = project(events.map(publishedForm));
    expect(published.tokens.size).toBe(4);
    expect([...published.tokens.entries()]).toEqual([...stored.tokens.entries()]);
    expect([...published.grants.entries()]).toEqual([...stored.grants.entries()]);
  });

  it('rebuilding from scratch gives the same rows (ES-03)', async () => {
    const { events } = await life();
    const a = project(events);
    const b = project(events);
    expect([...b.grants.entries()]).toEqual([...a.grants.entries()]);
    expect([...b.tokens.entries()]).toEqual([...a.tokens.entries()]);
  });
});
