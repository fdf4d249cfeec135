import { createUser } from '../support/authorize.js';
import {
  authorizeWithPkce,
  codeTokens,
  registerClient,
  type RegisteredClient,
  RP_REDIRECT_URI,
} from '../support/relying-party.js';
import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * The `claims` request parameter (OpenID Connect Core §5.5) as an attacker would try it: hostile
 * values at /authorize are an invalid_request error redirect (never a 500, never a code), and what a
 * token yields at UserInfo and in the ID token stays within its own user, its `openid` scope and
 * the consented request.
 */
describe('the claims request parameter (OpenID Connect Core §5.5): what a request can ask for', () => {
  let system: RunningSystem;
  let alice: { sub: string };
  let bob: { sub: string };
  let rp: RegisteredClient;
  const password = 'correct horse battery staple 42';
  const EMAIL = JSON.stringify({ userinfo: { email: null }, id_token: { email: { essential: true } } });

  const request = (username: string, scope: string, claims: string | undefined) => ({
    username,
    password,
    scope,
    ...(claims !== undefined ? { extra: { claims } } : {}),
  });
  const front = (username: string, scope: string, claims: string | undefined) =>
    authorizeWithPkce(system, rp, request(username, scope, claims));
  const tokensOf = (username: string, scope: string, claims?: string, client = rp) =>
    codeTokens(system, client, request(username, scope, claims));

  const userinfo = (token: string) =>
    fetch(`${system.baseUrl}/userinfo`, { headers: { authorization: `Bearer ${token}` } });

  const payload = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

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

  it.each([
    ['malformed JSON', '{"userinfo":{"email":null}'],
    ['an array', '[]'],
    ['a string', '"email"'],
    ['a member that is not an object', '{"userinfo":["email"]}'],
    ['a claim request that is neither null nor an object', '{"userinfo":{"email":true}}'],
    ['essential that is not a boolean', '{"id_token":{"email":{"essential":"yes"}}}'],
    ['values that is not a list of strings', '{"id_token":{"acr":{"values":[1]}}}'],
    ['a value of over 2048 characters', JSON.stringify({ userinfo: { email: { value: 'x'.repeat(3000) } } })],
    [
      'more than 32 claims in one member',
      JSON.stringify({ userinfo: Object.fromEntries([...Array(40).keys()].map((i) => [`c${i}`, null])) }),
    ],
  ])(
    'INP-claims: %s is an invalid_request error redirect, never a code',
    async (_, claims) => {
      const { result } = await front('alice', 'openid', claims);
      expect(result.code).toBeUndefined();
      expect(result.error).toBe('invalid_request');
      expect(result.errorDescription).toMatch(/claims/);
    },
    60000,
  );

  it('AUTHZ-claims: a claims parameter on a plain OAuth request (no openid) is ignored, and widens nothing', async () => {
    const t = await tokensOf('alice', 'read', EMAIL);
    expect(t.id_token).toBeUndefined();
    const res = await userinfo(t.access_token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    // Core §5.5 applies to OpenID requests only: a malformed one on a plain request is not read.
    const { result } = await front('alice', 'read', '{not json');
    expect(result.code).toBeDefined();
  }, 60000);

  it("AUTHZ-claims: a token yields its own user's claims only, whatever the request names", async () => {
    const a = await tokensOf('alice', 'openid', EMAIL);
    expect(await (await userinfo(a.access_token)).json()).toEqual({
      sub: alice.sub,
      email: 'alice@example.test',
    });
    expect(payload(a.id_token!)).toMatchObject({ sub: alice.sub, email: 'alice@example.test' });
    // Bob names Alice's subject and address as values: he still gets his own sub, and no address (he has none).
    const asAlice = JSON.stringify({
      userinfo: {
        sub: { value: alice.sub },
        email: { value: 'alice@example.test' },
        preferred_username: null,
      },
      id_token: { email: null, sub: { value: alice.sub } },
    });
    const b = await tokensOf('bob', 'openid', asAlice);
    expect(await (await userinfo(b.access_token)).json()).toEqual({
      sub: bob.sub,
      preferred_username: 'bob',
    });
    const idToken = payload(b.id_token!);
    expect(idToken.sub).toBe(bob.sub);
    expect(idToken.email).toBeUndefined();
  }, 90000);

  it('AUTHZ-claims: unknown and unreleasable claim names are ignored, not an error (Core §5.5)', async () => {
    const odd = JSON.stringify({
      userinfo: { 'https://example.test/role': null, password: null, phone_number: null, email: null },
      id_token: { secret: { essential: true } },
      other_member: { email: null },
    });
    const t = await tokensOf('alice', 'openid', odd);
    expect(await (await userinfo(t.access_token)).json()).toEqual({
      sub: alice.sub,
      email: 'alice@example.test',
    });
    expect(Object.keys(payload(t.id_token!))).not.toContain('secret');
  }, 60000);

  it('AUTHZ-claims: the claims ride on the grant: a refreshed token and ID token keep them, nothing more', async () => {
    const t = await tokensOf('alice', 'openid offline_access', EMAIL);
    expect(t.refresh_token).toBeDefined();
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'refresh_token', refresh_token: t.refresh_token! },
      { authorization: basic(rp.client_id, rp.client_secret) },
    );
    expect(res.status).toBe(200);
    const refreshed = (await res.json()) as { access_token: string; id_token: string };
    expect(await (await userinfo(refreshed.access_token)).json()).toEqual({
      sub: alice.sub,
      email: 'alice@example.test',
    });
    expect(payload(refreshed.id_token)).toMatchObject({ email: 'alice@example.test' });
    // A claims parameter at the token endpoint is not a way to ask for more.
    const more = await postForm(
      `${system.baseUrl}/token`,
      {
        grant_type: 'refresh_token',
        refresh_token: (refreshed as { refresh_token?: string }).refresh_token!,
        claims: JSON.stringify({ userinfo: { name: null, preferred_username: null } }),
      },
      { authorization: basic(rp.client_id, rp.client_secret) },
    );
    expect(more.status).toBe(200);
    const again = (await more.json()) as { access_token: string };
    expect(await (await userinfo(again.access_token)).json()).toEqual({
      sub: alice.sub,
      email: 'alice@example.test',
    });
  }, 90000);

  it('AUTHZ-claims: a client not registered for the email or profile scope gets none of their claims through it', async () => {
    const narrow = await registerClient(system, {
      client_name: 'Narrow RP',
      grant_types: ['authorization_code'],
      redirect_uris: [RP_REDIRECT_URI],
      scope: 'openid',
    });
    const all = JSON.stringify({
      userinfo: { email: null, name: null, preferred_username: null },
      id_token: { email: null, email_verified: null },
    });
    const t = await tokensOf('alice', 'openid', all, narrow);
    expect(await (await userinfo(t.access_token)).json()).toEqual({ sub: alice.sub });
    expect(payload(t.id_token!).email).toBeUndefined();
  }, 60000);
});
