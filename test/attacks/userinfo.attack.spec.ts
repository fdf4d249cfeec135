import { createUser } from '../support/authorize.js';
import { forgeAccessToken } from '../support/forge.js';
import {
  codeTokens,
  registerClient,
  type RegisteredClient,
  RP_REDIRECT_URI,
} from '../support/relying-party.js';
import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * The UserInfo endpoint (OpenID Connect Core §5.3) as an attacker would try it: whose claims does a
 * bearer token reveal, and which tokens are refused. RFC 6750 §3.1: 401 invalid_token for a token
 * that is missing its validity (malformed, unknown, expired, revoked, not issued for a user), 403
 * insufficient_scope for a token without `openid` (Core §5.3.3).
 */
describe('UserInfo (OpenID Connect Core §5.3): who learns whose claims', () => {
  let system: RunningSystem;
  let alice: { sub: string };
  let bob: { sub: string };
  let rp: RegisteredClient;
  const password = 'correct horse battery staple 42';

  /** A user's tokens for `client`, through the login and consent pages. */
  const tokensOf = (username: string, scope: string, client = rp) =>
    codeTokens(system, client, { username, password, scope });

  const userinfo = (token?: string, init: RequestInit = {}) =>
    fetch(`${system.baseUrl}/userinfo`, {
      ...init,
      headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    });

  const expectInvalidToken = async (res: Response) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  };

  beforeAll(async () => {
    system = await startSystem();
    alice = await createUser(system, 'alice', password, 'alice@example.test');
    bob = await createUser(system, 'bob', password);
    rp = await registerClient(system, {
      client_name: 'RP',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [RP_REDIRECT_URI],
      scope: 'openid profile email offline_access read',
    });
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  it("a token reveals its own user's claims, never another user's", async () => {
    const a = await tokensOf('alice', 'openid profile email');
    const b = await tokensOf('bob', 'openid profile');
    const forAlice = await userinfo(a.access_token);
    expect(forAlice.status).toBe(200);
    expect(forAlice.headers.get('cache-control')).toMatch(/no-store/);
    expect(await forAlice.json()).toEqual({
      sub: alice.sub,
      preferred_username: 'alice',
      email: 'alice@example.test',
      email_verified: false,
    });
    expect(await (await userinfo(b.access_token)).json()).toEqual({
      sub: bob.sub,
      preferred_username: 'bob',
    });
  }, 60000);

  it('claims follow the scope: openid alone gives sub only', async () => {
    const t = await tokensOf('alice', 'openid');
    expect(await (await userinfo(t.access_token)).json()).toEqual({ sub: alice.sub });
  }, 60000);

  it('POST with the token in the header, or in the form body (RFC 6750 §2.2), answers the same', async () => {
    const t = await tokensOf('alice', 'openid');
    const viaHeader = await userinfo(t.access_token, { method: 'POST' });
    expect(await viaHeader.json()).toEqual({ sub: alice.sub });
    const viaBody = await postForm(`${system.baseUrl}/userinfo`, { access_token: t.access_token });
    expect(viaBody.status).toBe(200);
    expect(await viaBody.json()).toEqual({ sub: alice.sub });
    // RFC 6750 §2: one method only.
    const both = await postForm(
      `${system.baseUrl}/userinfo`,
      { access_token: t.access_token },
      { authorization: `Bearer ${t.access_token}` },
    );
    expect(both.status).toBe(400);
  }, 60000);

  it('no token: 401 with a Bearer challenge; a token in the query string is not taken (RFC 9700 §4.3.2)', async () => {
    const none = await userinfo();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const t = await tokensOf('alice', 'openid');
    const inQuery = await fetch(`${system.baseUrl}/userinfo?access_token=${t.access_token}`);
    expect(inQuery.status).not.toBe(200);
  }, 60000);

  it('garbage, an ID token, and a forged or expired token signed with the real key: 401 invalid_token', async () => {
    await expectInvalidToken(await userinfo('not-a-token'));
    const t = await tokensOf('alice', 'openid');
    await expectInvalidToken(await userinfo(t.id_token!));
    // Signed with the server's real key but never issued (no AccessTokenIssued): unknown jti.
    const forged = await forgeAccessToken(system, {
      sub: alice.sub,
      client_id: rp.client_id,
      aud: system.issuer,
      scope: 'openid profile',
    });
    await expectInvalidToken(await userinfo(forged));
    const expired = await forgeAccessToken(system, {
      sub: alice.sub,
      client_id: rp.client_id,
      aud: system.issuer,
      scope: 'openid',
      ttlSeconds: -60,
    });
    await expectInvalidToken(await userinfo(expired));
  }, 60000);

  it('a token without openid: 403 insufficient_scope (Core §5.3.3)', async () => {
    const t = await tokensOf('alice', 'read');
    const res = await userinfo(t.access_token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  }, 60000);

  it('a client-credentials token, even with openid, has no user: 401 invalid_token', async () => {
    const machine = await registerClient(system, {
      client_name: 'M',
      grant_types: ['client_credentials'],
      scope: 'openid read',
    });
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'openid read' },
      { authorization: basic(machine.client_id, machine.client_secret) },
    );
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    await expectInvalidToken(await userinfo(access_token));
  }, 60000);

  it('a revoked token (RFC 7009), a disabled user and a disabled client: 401 invalid_token', async () => {
    const revoked = await tokensOf('alice', 'openid');
    const r = await postForm(
      `${system.baseUrl}/revoke`,
      { token: revoked.access_token },
      { authorization: basic(rp.client_id, rp.client_secret) },
    );
    expect(r.status).toBe(200);
    await expectInvalidToken(await userinfo(revoked.access_token));

    await createUser(system, 'carol', password);
    const carols = await tokensOf('carol', 'openid');
    expect((await userinfo(carols.access_token)).status).toBe(200);
    await system.cli(['users', 'disable', 'carol']);
    await expectInvalidToken(await userinfo(carols.access_token));

    const other = await registerClient(system, {
      client_name: 'RP2',
      grant_types: ['authorization_code'],
      redirect_uris: [RP_REDIRECT_URI],
      scope: 'openid',
    });
    const others = await tokensOf('alice', 'openid', other);
    expect((await userinfo(others.access_token)).status).toBe(200);
    await system.cli(['clients', 'disable', other.client_id]);
    await expectInvalidToken(await userinfo(others.access_token));
  }, 90000);
});
