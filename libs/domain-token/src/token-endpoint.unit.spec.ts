import type { TokenResponse } from '#lib/contracts';
import { decideGrant, GRANT_FOLD, grantStreamId, mintGrantToken } from '#lib/domain-grant';
import { aggregateStream, InMemoryEventStore } from '#lib/event-store';
import { s256 } from '#lib/oauth-protocol';
import { accessTokenStreamId } from './access-token.js';
import {
  ACCESS_TOKEN_MAX_TTL_SECONDS,
  CHALLENGE,
  claimsOf,
  clients,
  refusalOf,
  TokenEndpointFixture,
  VERIFIER,
} from './testing/token-endpoint-fixture.js';

let f: TokenEndpointFixture;
beforeEach(() => {
  f = new TokenEndpointFixture(new InMemoryEventStore());
});

const errorOf = async (p: Promise<unknown>) => {
  const e = await refusalOf(p);
  return { error: e.error, status: e.status };
};
const INVALID_GRANT = { error: 'invalid_grant', status: 400 };

async function revokeGrant(token: string, reason: 'revocation_request' | 'user_disabled') {
  const streamId = grantStreamId(token.slice(0, 22));
  const { state, version } = await aggregateStream(f.store, streamId, GRANT_FOLD);
  const d = decideGrant({ type: 'RevokeGrant', reason, revokedBy: 'test', now: f.now }, state);
  await f.store.appendToStream(streamId, version, d.events);
}

describe('authorization_code grant (RFC 6749 §4.1.3; checklist TOK)', () => {
  it('TOK-01: a valid redemption gives an access token, a refresh token and the granted scope', async () => {
    const code = await f.seedCode();
    const res = await f.redeem(code);
    expect(res).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'read write' });
    expect(res.refresh_token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(res.refresh_token!.slice(0, 22)).toBe(code.slice(0, 22));
    const claims = claimsOf(res);
    expect(claims).toMatchObject({
      iss: 'https://as.test',
      sub: 'sub-alice',
      aud: 'https://api.test',
      client_id: 'c1',
      scope: 'read write',
    });
    expect(claims.exp - claims.iat).toBe(600);
    expect(await f.grantEvents(code)).toEqual([
      'AuthorizationCodeIssued',
      'AuthorizationCodeRedeemed',
      'RefreshTokenIssued',
    ]);
    const [issued] = await f.store.readStream(accessTokenStreamId(claims.jti));
    expect(issued!.data).toMatchObject({
      grantId: code.slice(0, 22),
      username: 'alice',
      grantType: 'authorization_code',
    });
  });

  it('records the grant events and the AccessTokenIssued in one append, the refresh token only as a hash', async () => {
    const code = await f.seedCode();
    const res = await f.redeem(code);
    const events = await f.store.readAll(0, 100);
    const redeemed = events.find((e) => e.type === 'AuthorizationCodeRedeemed')!;
    const issued = events.find((e) => e.type === 'AccessTokenIssued')!;
    expect(issued.globalPosition).toBeGreaterThan(redeemed.globalPosition);
    expect(JSON.stringify(events)).not.toContain(res.refresh_token!.slice(23));
    expect(JSON.stringify(events)).not.toContain(code.slice(23));
    expect(JSON.stringify(events)).toContain(f.hash(res.refresh_token!));
  });

  it('TOK-02, TOK-03: a second redemption is invalid_grant and revokes the grant: the refresh token is dead', async () => {
    const code = await f.seedCode();
    const first = await f.redeem(code);
    expect(await errorOf(f.redeem(code))).toEqual(INVALID_GRANT);
    expect(await f.grantEvents(code)).toEqual([
      'AuthorizationCodeIssued',
      'AuthorizationCodeRedeemed',
      'RefreshTokenIssued',
      'AuthorizationCodeReplayed',
      'GrantRevoked',
    ]);
    const revoked = (await f.store.readStream(grantStreamId(code.slice(0, 22)))).at(-1)!;
    expect(revoked.data).toMatchObject({ reason: 'code_replay' });
    expect(await errorOf(f.refresh(first.refresh_token!))).toEqual(INVALID_GRANT);
  });

  it('TOK-04: a replay 30 s later and after the code TTL is still invalid_grant; nothing comes back to life', async () => {
    const code = await f.seedCode();
    const first = await f.redeem(code);
    f.advance(30);
    expect(await errorOf(f.redeem(code))).toEqual(INVALID_GRANT);
    f.advance(60);
    expect(await errorOf(f.redeem(code))).toEqual(INVALID_GRANT);
    expect((await f.grantEvents(code)).filter((t) => t === 'GrantRevoked')).toHaveLength(1);
    expect(await errorOf(f.refresh(first.refresh_token!))).toEqual(INVALID_GRANT);
  });

  it('TOK-05: a replay with a wrong code_verifier or redirect_uri is refused and revokes nothing', async () => {
    const code = await f.seedCode({ client: clients.p1 });
    const first = await f.redeem(code, { client: clients.p1 });
    expect(
      await errorOf(f.redeem(code, { client: clients.p1, extra: { code_verifier: 'w'.repeat(43) } })),
    ).toEqual(INVALID_GRANT);
    expect(
      await errorOf(f.redeem(code, { client: clients.p1, extra: { redirect_uri: 'https://p1.test/other' } })),
    ).toEqual(INVALID_GRANT);
    expect(await f.grantEvents(code)).not.toContain('GrantRevoked');
    expect((await f.refresh(first.refresh_token!, { client: clients.p1 })).access_token).toBeDefined();
  });

  it('TOK-06: 20 concurrent redemptions: exactly one succeeds and the replays revoke it (decision 4)', async () => {
    const code = await f.seedCode();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => f.redeem(code)));
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<TokenResponse>[];
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject(INVALID_GRANT);
    }
    expect(await f.grantEvents(code)).toContain('GrantRevoked');
    expect(await errorOf(f.refresh(ok[0]!.value.refresh_token!))).toEqual(INVALID_GRANT);
  });

  it("TOK-07: another client's redemption is invalid_grant and does not burn the code (decision 4)", async () => {
    const code = await f.seedCode();
    expect(
      await errorOf(f.redeem(code, { client: clients.c2, extra: { redirect_uri: 'https://c1.test/cb' } })),
    ).toEqual(INVALID_GRANT);
    expect(await f.grantEvents(code)).toEqual(['AuthorizationCodeIssued']);
    expect((await f.redeem(code)).access_token).toBeDefined();
  });

  it("TOK-08: a public client's code redeemed by another public client is invalid_grant", async () => {
    const code = await f.seedCode({ client: clients.p1 });
    expect(
      await errorOf(f.redeem(code, { client: clients.p2, extra: { redirect_uri: 'https://p1.test/cb' } })),
    ).toEqual(INVALID_GRANT);
  });

  it('TOK-10: a redirect_uri other than the one used at /authorize is invalid_grant', async () => {
    const code = await f.seedCode({ client: clients.c3, redirectUri: 'https://c3.test/cb' });
    expect(
      await errorOf(f.redeem(code, { client: clients.c3, extra: { redirect_uri: 'https://c3.test/cb2' } })),
    ).toEqual(INVALID_GRANT);
  });

  it('TOK-11 (decision 3): redirect_uri may be omitted when PKCE was used, else invalid_request', async () => {
    const withPkce = await f.seedCode();
    const { redirect_uri: _, ...rest } = {
      grant_type: 'authorization_code',
      code: withPkce,
      code_verifier: VERIFIER,
      redirect_uri: '',
    };
    expect((await f.exchange(clients.c1, rest)).access_token).toBeDefined();
    const withoutPkce = await f.seedCode({ codeChallenge: null });
    const e = await refusalOf(
      f.exchange(clients.c1, { grant_type: 'authorization_code', code: withoutPkce }),
    );
    expect({ error: e.error, status: e.status }).toEqual({ error: 'invalid_request', status: 400 });
  });

  it('a code whose /authorize request had no redirect_uri accepts the one it was delivered to, or none', async () => {
    const code = await f.seedCode({ redirectUri: null });
    expect((await f.redeem(code)).access_token).toBeDefined();
    const other = await f.seedCode({ redirectUri: null });
    expect(await errorOf(f.redeem(other, { extra: { redirect_uri: 'https://c1.test/cb/' } }))).toEqual(
      INVALID_GRANT,
    );
  });

  it('TOK-12: a code redeemed after its TTL + 2 s is invalid_grant', async () => {
    const code = await f.seedCode({ ttlSeconds: 60 });
    f.advance(62);
    expect(await errorOf(f.redeem(code))).toEqual(INVALID_GRANT);
  });

  it.each([
    ['AAAA', 'AAAA'],
    ['10 KB', 'a'.repeat(10240)],
    ['with NUL', `${'a'.repeat(22)}.\u0000${'b'.repeat(42)}`],
    ['of a grant that does not exist', mintGrantToken('x'.repeat(22))],
  ])('TOK-13: a code %s is invalid_grant', async (_name, code) => {
    expect(await errorOf(f.redeem(code))).toEqual(INVALID_GRANT);
  });

  it('TOK-13: a right grant id with a wrong secret is invalid_grant and burns nothing', async () => {
    const code = await f.seedCode();
    const forged = `${code.slice(0, 23)}${code.slice(23).split('').reverse().join('')}`;
    expect(await errorOf(f.redeem(forged))).toEqual(INVALID_GRANT);
    expect((await f.redeem(code)).access_token).toBeDefined();
  });

  it('TOK-14: a missing code is invalid_request', async () => {
    const e = await refusalOf(
      f.exchange(clients.c1, { grant_type: 'authorization_code', code_verifier: VERIFIER }),
    );
    expect({ error: e.error, status: e.status }).toEqual({ error: 'invalid_request', status: 400 });
  });

  it('TOK-15, JWT-15: a code as refresh_token, and an access token or a refresh token as code, are invalid_grant', async () => {
    const code = await f.seedCode();
    const res = await f.redeem(code);
    const code2 = await f.seedCode();
    expect(await errorOf(f.refresh(code2))).toEqual(INVALID_GRANT);
    expect(await errorOf(f.redeem(res.access_token))).toEqual(INVALID_GRANT);
    expect(await errorOf(f.redeem(res.refresh_token!))).toEqual(INVALID_GRANT);
    // none of these touched the grants
    expect((await f.redeem(code2)).access_token).toBeDefined();
    expect((await f.refresh(res.refresh_token!)).access_token).toBeDefined();
  });

  it('TOK-16: a code whose grant was revoked (user disabled) before redemption is invalid_grant, recorded as no replay', async () => {
    const code = await f.seedCode();
    await revokeGrant(code, 'user_disabled');
    expect(await errorOf(f.redeem(code))).toEqual(INVALID_GRANT);
    expect(await f.grantEvents(code)).toEqual(['AuthorizationCodeIssued', 'GrantRevoked']);
  });

  it('TOK-17: the response names the scope the user granted (a subset of the request)', async () => {
    const code = await f.seedCode({ scope: ['read'] });
    const res = await f.redeem(code);
    expect(res.scope).toBe('read');
    expect(claimsOf(res).scope).toBe('read');
  });

  it('a client not registered for the code grant is unauthorized_client', async () => {
    const code = await f.seedCode();
    const e = await refusalOf(
      f.redeem(code, { client: { ...clients.c1, grantTypes: ['client_credentials'] } }),
    );
    expect(e.error).toBe('unauthorized_client');
  });

  it('a client not registered for refresh_token gets no refresh token', async () => {
    const code = await f.seedCode({ client: clients.codeOnly });
    const res = await f.redeem(code, { client: clients.codeOnly });
    expect(res.refresh_token).toBeUndefined();
    expect(await f.grantEvents(code)).toEqual(['AuthorizationCodeIssued', 'AuthorizationCodeRedeemed']);
  });

  it("the access-token lifetime is the client's when set", async () => {
    const client = { ...clients.c1, accessTokenTtlSeconds: 120 };
    const res = await f.redeem(await f.seedCode({ client }), { client });
    expect(res.expires_in).toBe(120);
    expect(claimsOf(res).exp - claimsOf(res).iat).toBe(120);
  });

  it("the access-token lifetime never exceeds the server's cap, code and refresh alike", async () => {
    const client = { ...clients.c1, accessTokenTtlSeconds: 86400 };
    const res = await f.redeem(await f.seedCode({ client }), { client });
    expect(res.expires_in).toBe(ACCESS_TOKEN_MAX_TTL_SECONDS);
    expect(claimsOf(res).exp - claimsOf(res).iat).toBe(ACCESS_TOKEN_MAX_TTL_SECONDS);
    const refreshed = await f.refresh(res.refresh_token!, { client });
    expect(refreshed.expires_in).toBe(ACCESS_TOKEN_MAX_TTL_SECONDS);
  });
});

describe('PKCE at the token endpoint (RFC 7636 §4.6; checklist PKCE-T, decision 2)', () => {
  const unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

  it.each([
    ['43', unreserved.slice(0, 43)],
    ['128', (unreserved + unreserved).slice(0, 128)],
    ['66 (every unreserved character)', unreserved],
  ])('PKCE-T01: a verifier of %s characters redeems', async (_n, verifier) => {
    const code = await f.seedCode({ codeChallenge: s256(verifier) });
    expect((await f.redeem(code, { extra: { code_verifier: verifier } })).access_token).toBeDefined();
  });

  it('PKCE-T02, PKCE-T06: a verifier omitted although a challenge was sent is invalid_grant', async () => {
    const code = await f.seedCode();
    const e = await refusalOf(
      f.exchange(clients.c1, { grant_type: 'authorization_code', code, redirect_uri: 'https://c1.test/cb' }),
    );
    expect({ error: e.error, status: e.status }).toEqual(INVALID_GRANT);
  });

  it('PKCE-T03: a wrong well-formed verifier is invalid_grant', async () => {
    const code = await f.seedCode();
    expect(await errorOf(f.redeem(code, { extra: { code_verifier: 'B'.repeat(43) } }))).toEqual(
      INVALID_GRANT,
    );
  });

  it('PKCE-T04: the challenge itself as verifier (a plain-style attempt) is invalid_grant', async () => {
    const code = await f.seedCode();
    expect(await errorOf(f.redeem(code, { extra: { code_verifier: CHALLENGE } }))).toEqual(INVALID_GRANT);
  });

  it('PKCE-T05: downgrade: a code issued without a challenge, redeemed with a verifier, is invalid_grant', async () => {
    const code = await f.seedCode({ codeChallenge: null });
    expect(await errorOf(f.redeem(code))).toEqual(INVALID_GRANT);
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['a +', `${'a'.repeat(42)}+`],
    ['a /', `${'a'.repeat(42)}/`],
    ['a =', `${'a'.repeat(42)}=`],
    ['a space', `${'a'.repeat(42)} `],
    ['an é', `${'a'.repeat(42)}é`],
  ])(
    'PKCE-T07: a verifier with %s is invalid_grant (decision 2) and issues nothing',
    async (_n, verifier) => {
      const code = await f.seedCode();
      expect(await errorOf(f.redeem(code, { extra: { code_verifier: verifier } }))).toEqual(INVALID_GRANT);
      expect(await f.grantEvents(code)).toEqual(['AuthorizationCodeIssued']);
    },
  );
});

describe('refresh_token grant (RFC 6749 §6, RFC 9700 §4.14.2; checklist RT)', () => {
  async function family(client = clients.c1, seed: Parameters<TokenEndpointFixture['seedCode']>[0] = {}) {
    return f.redeem(await f.seedCode({ client, ...seed }), { client });
  }

  it('RT-01: every use rotates: a new refresh token and a new access token', async () => {
    const first = await family();
    const second = await f.refresh(first.refresh_token!);
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(claimsOf(second).jti).not.toBe(claimsOf(first).jti);
    expect(await f.grantEvents(first.refresh_token!)).toContain('RefreshTokenRotated');
  });

  it('JWT-08: sub stays the user across refreshes; username and grantId are on the issuance event', async () => {
    const first = await family();
    const second = await f.refresh(first.refresh_token!);
    expect(claimsOf(second).sub).toBe('sub-alice');
    const [issued] = await f.store.readStream(accessTokenStreamId(claimsOf(second).jti));
    expect(issued!.data).toMatchObject({
      grantType: 'refresh_token',
      username: 'alice',
      grantId: first.refresh_token!.slice(0, 22),
    });
  });

  it.each([
    ['confidential C1 (RT-02)', clients.c1],
    ['public P1 (RT-03)', clients.p1],
  ])('%s: reuse of a rotated token revokes the family', async (_n, client) => {
    const first = await family(client);
    const second = await f.refresh(first.refresh_token!, { client });
    expect(await errorOf(f.refresh(first.refresh_token!, { client }))).toEqual(INVALID_GRANT);
    expect(await errorOf(f.refresh(second.refresh_token!, { client }))).toEqual(INVALID_GRANT);
    const events = await f.grantEvents(first.refresh_token!);
    expect(events.slice(-2)).toEqual(['RefreshTokenReuseDetected', 'GrantRevoked']);
    const revoked = (await f.store.readStream(grantStreamId(first.refresh_token!.slice(0, 22)))).at(-1)!;
    expect(revoked.data).toMatchObject({ reason: 'refresh_token_reuse' });
  });

  it('RT-03: public clients get refresh tokens, rotated', async () => {
    const first = await family(clients.p1);
    expect(first.refresh_token).toBeDefined();
    const second = await f.refresh(first.refresh_token!, { client: clients.p1 });
    expect(second.refresh_token).not.toBe(first.refresh_token);
  });

  it('RT-04: 10 concurrent refreshes with grace 0: at most one succeeds and the family is revoked (decision 5)', async () => {
    const first = await family();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => f.refresh(first.refresh_token!)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<TokenResponse>[];
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(await f.grantEvents(first.refresh_token!)).toContain('GrantRevoked');
    for (const r of ok) expect(await errorOf(f.refresh(r.value.refresh_token!))).toEqual(INVALID_GRANT);
  });

  it("RT-05, RT-06: another client's use is invalid_grant and leaves the family alive", async () => {
    const c1 = await family();
    expect(await errorOf(f.refresh(c1.refresh_token!, { client: clients.c2 }))).toEqual(INVALID_GRANT);
    const p1 = await family(clients.p1);
    expect(await errorOf(f.refresh(p1.refresh_token!, { client: clients.p2 }))).toEqual(INVALID_GRANT);
    expect((await f.refresh(c1.refresh_token!)).access_token).toBeDefined();
    expect((await f.refresh(p1.refresh_token!, { client: clients.p1 })).access_token).toBeDefined();
  });

  it('RT-08: the scope narrows for one access token; the rotated refresh token keeps the grant scope', async () => {
    const first = await family();
    const narrowed = await f.refresh(first.refresh_token!, { scope: 'read' });
    expect(narrowed.scope).toBe('read');
    expect(claimsOf(narrowed).scope).toBe('read');
    const again = await f.refresh(narrowed.refresh_token!);
    expect(again.scope).toBe('read write');
    expect(claimsOf(again).scope).toBe('read write');
  });

  it('RT-09: a wider scope is invalid_scope', async () => {
    const first = await family(clients.c1, { scope: ['read'] });
    const e = await refusalOf(f.refresh(first.refresh_token!, { scope: 'read write' }));
    expect({ error: e.error, status: e.status }).toEqual({ error: 'invalid_scope', status: 400 });
    const admin = await refusalOf(f.refresh(first.refresh_token!, { scope: 'read admin' }));
    expect(admin.error).toBe('invalid_scope');
    // a refused scope burns nothing
    expect((await f.refresh(first.refresh_token!)).scope).toBe('read');
  });

  it("a refresh after the client was narrowed yields only the client's current scope (issue 20)", async () => {
    const first = await family();
    const narrowed = { ...clients.c1, scope: ['read'] };
    const second = await f.refresh(first.refresh_token!, { client: narrowed });
    expect(second.scope).toBe('read');
    expect(claimsOf(second).scope).toBe('read');
    const asked = await refusalOf(f.refresh(second.refresh_token!, { client: narrowed, scope: 'write' }));
    expect(asked.error).toBe('invalid_scope');
    // Nothing left: invalid_scope, the family untouched; the scope restored, the token works.
    const none = await refusalOf(
      f.refresh(second.refresh_token!, { client: { ...clients.c1, scope: ['x'] } }),
    );
    expect(none.error).toBe('invalid_scope');
    expect(await f.grantEvents(second.refresh_token!)).not.toContain('GrantRevoked');
    expect((await f.refresh(second.refresh_token!)).scope).toBe('read write');
  });

  it('a code redeemed after the client was narrowed yields only its current scope; none left burns nothing', async () => {
    const code = await f.seedCode();
    const none = await refusalOf(f.redeem(code, { client: { ...clients.c1, scope: ['x'] } }));
    expect(none.error).toBe('invalid_scope');
    const res = await f.redeem(code, { client: { ...clients.c1, scope: ['write'] } });
    expect(res.scope).toBe('write');
  });

  it('RT-10: an omitted scope is the scope originally granted', async () => {
    const first = await family();
    expect((await f.refresh(first.refresh_token!)).scope).toBe('read write');
  });

  it.each([
    ['an unknown scope', 'nope'],
    ['a malformed scope', 'read  write'],
    ['a quote', 'read"'],
  ])('RT-11: %s is invalid_scope', async (_n, scope) => {
    const first = await family();
    expect((await refusalOf(f.refresh(first.refresh_token!, { scope }))).error).toBe('invalid_scope');
  });

  it.each([
    ['revoked through /revoke (RT-12)', 'revocation_request' as const],
    ['of a disabled user (RT-17)', 'user_disabled' as const],
  ])('RT-12, RT-17: a refresh token %s is invalid_grant', async (_n, reason) => {
    const first = await family();
    await revokeGrant(first.refresh_token!, reason);
    expect(await errorOf(f.refresh(first.refresh_token!))).toEqual(INVALID_GRANT);
  });

  it('RT-13: a refresh token unused beyond the idle lifetime is invalid_grant', async () => {
    f = new TokenEndpointFixture(new InMemoryEventStore(), { idle: 600, absolute: 3600 });
    const first = await family();
    f.advance(599);
    const second = await f.refresh(first.refresh_token!);
    f.advance(600);
    expect(await errorOf(f.refresh(second.refresh_token!))).toEqual(INVALID_GRANT);
  });

  it('RT-13: a family past its absolute lifetime is invalid_grant however often it is used', async () => {
    f = new TokenEndpointFixture(new InMemoryEventStore(), { idle: 600, absolute: 1000 });
    let current = (await family()).refresh_token!;
    for (let i = 0; i < 3; i++) {
      f.advance(300);
      current = (await f.refresh(current)).refresh_token!;
    }
    f.advance(100);
    expect(await errorOf(f.refresh(current))).toEqual(INVALID_GRANT);
  });

  it("RT-13: a client's refresh_token_ttl_seconds is its family's absolute lifetime", async () => {
    const client = { ...clients.c1, refreshTokenTtlSeconds: 120 };
    const first = await family(client);
    f.advance(121);
    expect(await errorOf(f.refresh(first.refresh_token!, { client }))).toEqual(INVALID_GRANT);
  });

  it("RT-13: a client's refresh_token_ttl_seconds past the server's cap ends the family at the cap", async () => {
    const capped = new TokenEndpointFixture(f.store, { absolute: 3600, maxAbsolute: 7200 });
    const client = { ...clients.c1, refreshTokenTtlSeconds: 365 * 86400 };
    let current = (await capped.redeem(await capped.seedCode({ client }), { client })).refresh_token!;
    // Used every 30 minutes (never idle), the family still ends 7,200 s after the redemption.
    for (let elapsed = 1800; elapsed < 7200; elapsed += 1800) {
      capped.advance(1800);
      current = (await capped.refresh(current, { client })).refresh_token!;
    }
    capped.advance(1800);
    expect(await errorOf(capped.refresh(current, { client }))).toEqual(INVALID_GRANT);
  });

  it('RT-14, JWT-15: garbage, an access token or a code as refresh_token is invalid_grant; none is invalid_request', async () => {
    const first = await family();
    expect(await errorOf(f.refresh('garbage'))).toEqual(INVALID_GRANT);
    expect(await errorOf(f.refresh(first.access_token))).toEqual(INVALID_GRANT);
    expect(await errorOf(f.refresh(await f.seedCode()))).toEqual(INVALID_GRANT);
    const e = await refusalOf(f.exchange(clients.c1, { grant_type: 'refresh_token' }));
    expect({ error: e.error, status: e.status }).toEqual({ error: 'invalid_request', status: 400 });
  });

  it('RT-15, RT-16: a flipped character or another grant id is invalid_grant; reuse in one family leaves another alive', async () => {
    const a = await family();
    const b = await family();
    const rt = a.refresh_token!;
    const flipped = rt.slice(0, -1) + (rt.endsWith('A') ? 'B' : 'A');
    const otherGrant = b.refresh_token!.slice(0, 22) + rt.slice(22);
    expect(await errorOf(f.refresh(flipped))).toEqual(INVALID_GRANT);
    expect(await errorOf(f.refresh(otherGrant))).toEqual(INVALID_GRANT);
    expect(await f.grantEvents(b.refresh_token!)).not.toContain('GrantRevoked');
    const a2 = await f.refresh(rt);
    await refusalOf(f.refresh(rt)); // reuse: family A revoked
    expect(await errorOf(f.refresh(a2.refresh_token!))).toEqual(INVALID_GRANT);
    expect((await f.refresh(b.refresh_token!)).access_token).toBeDefined();
  });

  it('a client not registered for refresh_token is unauthorized_client', async () => {
    const first = await family();
    const e = await refusalOf(f.refresh(first.refresh_token!, { client: clients.codeOnly }));
    expect(e.error).toBe('unauthorized_client');
  });

  describe('reuse grace window (decision 5)', () => {
    const graceful = { ...clients.c1, refreshTokenReuseGraceSeconds: 30 };

    it('inside it, re-presenting the token just rotated gives a new pair and the family lives', async () => {
      const first = await family(graceful);
      await f.refresh(first.refresh_token!, { client: graceful });
      f.advance(10);
      const retry = await f.refresh(first.refresh_token!, { client: graceful });
      expect(retry.refresh_token).toBeDefined();
      expect(await f.grantEvents(first.refresh_token!)).not.toContain('GrantRevoked');
      expect((await f.refresh(retry.refresh_token!, { client: graceful })).access_token).toBeDefined();
    });

    it('outside it, reuse revokes the family', async () => {
      const first = await family(graceful);
      await f.refresh(first.refresh_token!, { client: graceful });
      f.advance(31);
      expect(await errorOf(f.refresh(first.refresh_token!, { client: graceful }))).toEqual(INVALID_GRANT);
      expect(await f.grantEvents(first.refresh_token!)).toContain('GrantRevoked');
    });

    it('an older token than the one just rotated is reuse even inside the window', async () => {
      const first = await family(graceful);
      const second = await f.refresh(first.refresh_token!, { client: graceful });
      await f.refresh(second.refresh_token!, { client: graceful });
      expect(await errorOf(f.refresh(first.refresh_token!, { client: graceful }))).toEqual(INVALID_GRANT);
      expect(await f.grantEvents(first.refresh_token!)).toContain('GrantRevoked');
    });
  });
});

describe('resource indicators on the code and refresh grants (RFC 8707 §2)', () => {
  const multi = { ...clients.c1, audience: ['https://api.test', 'https://other.test'] };

  it("without resource the audience is the grant's resource, else the client's audience list", async () => {
    const withResource = await f.redeem(
      await f.seedCode({ client: multi, resource: ['https://other.test'] }),
      {
        client: multi,
      },
    );
    expect(claimsOf(withResource).aud).toBe('https://other.test');
    const without = await f.redeem(await f.seedCode({ client: multi }), { client: multi });
    expect(claimsOf(without).aud).toEqual(['https://api.test', 'https://other.test']);
  });

  it('a resource among those of the grant becomes the audience, at redemption and at refresh', async () => {
    const code = await f.seedCode({ client: multi, resource: ['https://api.test', 'https://other.test'] });
    const res = await f.redeem(code, { client: multi, resources: ['https://api.test'] });
    expect(claimsOf(res).aud).toBe('https://api.test');
    const refreshed = await f.refresh(res.refresh_token!, {
      client: multi,
      resources: ['https://other.test'],
    });
    expect(claimsOf(refreshed).aud).toBe('https://other.test');
  });

  it('a resource outside the grant is invalid_target and does not burn the code or the refresh token', async () => {
    const code = await f.seedCode({ client: multi, resource: ['https://api.test'] });
    const e = await refusalOf(f.redeem(code, { client: multi, resources: ['https://other.test'] }));
    expect({ error: e.error, status: e.status }).toEqual({ error: 'invalid_target', status: 400 });
    const res = await f.redeem(code, { client: multi });
    const r = await refusalOf(
      f.refresh(res.refresh_token!, { client: multi, resources: ['https://evil.test'] }),
    );
    expect(r.error).toBe('invalid_target');
    expect((await f.refresh(res.refresh_token!, { client: multi })).access_token).toBeDefined();
  });

  it("when the grant had no resource, a resource must be in the client's audience list", async () => {
    const code = await f.seedCode({ client: multi });
    expect((await refusalOf(f.redeem(code, { client: multi, resources: ['https://evil.test'] }))).error).toBe(
      'invalid_target',
    );
    expect(claimsOf(await f.redeem(code, { client: multi, resources: ['https://other.test'] })).aud).toBe(
      'https://other.test',
    );
  });
});

describe('the hot path', () => {
  class CountingStore extends InMemoryEventStore {
    reads = 0;
    appends = 0;
    override readStream(...args: Parameters<InMemoryEventStore['readStream']>) {
      this.reads++;
      return super.readStream(...args);
    }
    override appendMany(...args: Parameters<InMemoryEventStore['appendMany']>) {
      this.appends++;
      return super.appendMany(...args);
    }
  }

  it('a redemption costs one read of the grant stream and one append; a refresh of a cached grant one append', async () => {
    const store = new CountingStore();
    f = new TokenEndpointFixture(store);
    const code = await f.seedCode();
    store.reads = 0;
    const res = await f.redeem(code);
    expect({ reads: store.reads, appends: store.appends }).toEqual({ reads: 1, appends: 1 });
    await f.refresh(res.refresh_token!);
    expect({ reads: store.reads, appends: store.appends }).toEqual({ reads: 1, appends: 2 });
    await f.exchange(clients.s1, { grant_type: 'client_credentials', scope: 'read' });
    expect({ reads: store.reads, appends: store.appends }).toEqual({ reads: 1, appends: 3 });
  });
});

describe('a decision resting on the client as authentication read it (expect)', () => {
  const clientStream = 'client-s1';

  it('issues while the client stream is at the expected version', async () => {
    await f.store.appendToStream(clientStream, 0, [{ type: 'ClientRegistered', data: {} }]);
    const res = await f.exchange(
      clients.s1,
      { grant_type: 'client_credentials', scope: 'read' },
      [],
      [{ streamId: clientStream, version: 1 }],
    );
    expect(claimsOf(res).client_id).toBe('s1');
  });

  it('throws the conflict on the client stream at once, not retried like a grant race, and records nothing', async () => {
    await f.store.appendToStream(clientStream, 0, [
      { type: 'ClientRegistered', data: {} },
      { type: 'ClientDisabled', data: {} },
    ]);
    let appends = 0;
    const appendMany = f.store.appendMany.bind(f.store);
    f.store.appendMany = (...args) => {
      appends++;
      return appendMany(...args);
    };
    const head = await f.store.headPosition();
    const err = await f
      .exchange(
        clients.s1,
        { grant_type: 'client_credentials', scope: 'read' },
        [],
        [{ streamId: clientStream, version: 1 }],
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ExpectedVersionConflict', streamId: clientStream, actualVersion: 2 });
    expect(appends).toBe(1);
    expect(await f.store.readAll(head, 10)).toEqual([]);
  });

  it('a replayed code is not recorded on a client that moved (its refusal append carries the precondition)', async () => {
    await f.store.appendToStream('client-c1', 0, [
      { type: 'ClientRegistered', data: {} },
      { type: 'ClientSecretRotated', data: {} },
    ]);
    const code = await f.seedCode();
    await f.redeem(code);
    const before = await f.grantEvents(code);
    const err = await f
      .exchange(
        clients.c1,
        {
          grant_type: 'authorization_code',
          code,
          code_verifier: VERIFIER,
          redirect_uri: clients.c1.redirectUris![0]!,
        },
        [],
        [{ streamId: 'client-c1', version: 1 }],
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ExpectedVersionConflict', streamId: 'client-c1' });
    expect(await f.grantEvents(code)).toEqual(before);
  });
});

describe('the token endpoint answers (RFC 6749 §5.1)', () => {
  it('TREQ-16: access and refresh tokens hold only VSCHAR characters', async () => {
    const res = await f.redeem(await f.seedCode());
    expect(res.refresh_token).toMatch(/^[\x20-\x7e]+$/);
    expect(res.access_token).toMatch(/^[\x20-\x7e]+$/);
  });

  it('client credentials still issue through the same endpoint, without a refresh token (CC-02)', async () => {
    const res = await f.exchange(clients.s1, { grant_type: 'client_credentials', scope: 'read' });
    expect(res.refresh_token).toBeUndefined();
    expect(claimsOf(res)).toMatchObject({ sub: 's1', client_id: 's1', scope: 'read' });
  });

  it.each(['password', 'implicit', 'token', 'Authorization_Code'])(
    'TREQ-08, TREQ-09: grant_type=%s is unsupported_grant_type',
    async (grantType) => {
      const e = await refusalOf(f.exchange(clients.c1, { grant_type: grantType }));
      expect({ error: e.error, status: e.status }).toEqual({ error: 'unsupported_grant_type', status: 400 });
    },
  );
});
