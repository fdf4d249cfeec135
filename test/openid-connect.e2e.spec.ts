import { createHash, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { authorize, codeIssuedEvent, createUser } from './support/authorize.js';
import {
  registerClient,
  type RegisteredClient,
  relyingParty as rpOf,
  RP_REDIRECT_URI,
  signIn as rpSignIn,
} from './support/relying-party.js';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * OpenID Connect end to end with openid-client (panva) as the relying party, in its default strict
 * mode (discovery of /.well-known/openid-configuration, no `algorithm: 'oauth2'` fallback): code +
 * PKCE + nonce, ID token validation, UserInfo, refresh with a fresh ID token. The user agent is
 * test/support/authorize.ts (login and consent pages). The recipe is docs/openid-connect.md's.
 */
describe('OpenID Connect with openid-client as the relying party (Core 1.0, Discovery 1.0)', () => {
  let system: RunningSystem;
  let alice: { sub: string; username: string };
  const password = 'correct horse battery staple 42';
  const redirectUri = RP_REDIRECT_URI;

  const register = (doc: Record<string, unknown>) => registerClient(system, doc);
  const relyingParty = (registered: RegisteredClient) => rpOf(system, registered);
  const signIn = (
    config: client.Configuration,
    scope: string,
    redirect = redirectUri,
    parameters: Record<string, string> = {},
    username = 'alice',
  ) => rpSignIn(system, config, { username, password, scope, redirectUri: redirect, parameters });

  beforeAll(async () => {
    system = await startSystem({ env: { PAIRWISE_SUBJECT_KEY: randomBytes(32).toString('base64url') } });
    alice = await createUser(system, 'alice', password, 'alice@example.test');
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  const oidcClient = (name: string, extra: Record<string, unknown> = {}) =>
    register({
      client_name: name,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
      scope: 'openid offline_access read',
      ...extra,
    });

  it('Discovery 1.0 §4: the configuration names the issuer and matches the RFC 8414 document', async () => {
    const res = await fetch(`${system.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const config = (await res.json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      issuer: system.issuer,
      authorization_endpoint: `${system.issuer}/authorize`,
      token_endpoint: `${system.issuer}/token`,
      jwks_uri: `${system.issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public', 'pairwise'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256', 'EdDSA'],
      end_session_endpoint: `${system.issuer}/logout`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      claims_parameter_supported: true,
    });
    const rfc8414 = (await (
      await fetch(`${system.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    for (const [member, value] of Object.entries(rfc8414))
      expect([member, config[member]]).toEqual([member, value]);
  });

  it('Core §3.1: code + PKCE + nonce; openid-client validates the RS256 ID token (iss, aud, nonce, exp, signature)', async () => {
    const registered = await oidcClient('RP1');
    const config = await relyingParty(registered);
    const { tokens, nonce, code } = await signIn(config, 'openid offline_access');
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: system.issuer, sub: alice.sub, aud: registered.client_id, nonce });
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.exp - claims.iat).toBe(3600);
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    // Core §3.1.3.8: at_hash is the left half of the SHA-256 of the access token.
    const digest = createHash('sha256').update(tokens.access_token).digest();
    expect(claims.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    expect(tokens.refresh_token).toBeDefined();
    // The nonce is recorded with the code, for the ID token only.
    expect((await codeIssuedEvent(system, code))!.data).toMatchObject({ nonce });
  }, 60000);

  it('Core §5.3: openid-client fetches UserInfo with the access token; its sub is the ID token sub', async () => {
    const config = await relyingParty(await oidcClient('RP6', { scope: 'openid profile email' }));
    const { tokens } = await signIn(config, 'openid profile email');
    const sub = tokens.claims()!.sub;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(userinfo).toEqual({
      sub,
      preferred_username: 'alice',
      email: 'alice@example.test',
      email_verified: false,
    });
    await expect(client.fetchUserInfo(config, tokens.access_token, 'someone-else')).rejects.toThrow();
  }, 60000);

  it('Core §5.5: the claims parameter releases email at UserInfo and in the ID token with scope openid alone', async () => {
    const config = await relyingParty(await oidcClient('RP-claims', { scope: 'openid email' }));
    const claims = JSON.stringify({ userinfo: { email: null }, id_token: { email: { essential: true } } });
    const { tokens } = await signIn(config, 'openid', redirectUri, { claims });
    const sub = tokens.claims()!.sub;
    expect(tokens.claims()!.email).toBe('alice@example.test');
    expect(await client.fetchUserInfo(config, tokens.access_token, sub)).toEqual({
      sub,
      email: 'alice@example.test',
    });
    // Without the parameter, scope openid releases neither.
    const plain = await signIn(config, 'openid');
    expect(plain.tokens.claims()!.email).toBeUndefined();
    expect(await client.fetchUserInfo(config, plain.tokens.access_token, sub)).toEqual({ sub });
  }, 60000);

  it("Core §3.1.2.1 id_token_hint: the signed-in user's hint with prompt=none gives a code; another user's is login_required; a forged or foreign one invalid_request", async () => {
    const registered = await oidcClient('RP-hint');
    const config = await relyingParty(registered);
    const other = await relyingParty(await oidcClient('RP-hint-other'));
    await createUser(system, 'bob-hint', password);
    const alices = await signIn(config, 'openid');
    const bobs = await signIn(config, 'openid', redirectUri, {}, 'bob-hint');
    const foreign = await signIn(other, 'openid');
    const silent = (hint: string) =>
      authorize(system, {
        clientId: registered.client_id,
        redirectUri,
        scope: 'openid',
        codeChallenge: client.randomPKCECodeVerifier().slice(0, 43),
        username: 'alice',
        password,
        jar: alices.jar,
        extra: { prompt: 'none', nonce: 'n', id_token_hint: hint },
      });
    const own = await silent(alices.tokens.id_token!);
    expect([own.code !== undefined, own.loginShown, own.error]).toEqual([true, false, undefined]);
    const bob = await silent(bobs.tokens.id_token!);
    expect([bob.error, bob.code, bob.loginShown]).toEqual(['login_required', undefined, false]);
    for (const hint of ['not.a.token', foreign.tokens.id_token!]) {
      const refused = await silent(hint);
      expect([refused.error, refused.code]).toEqual(['invalid_request', undefined]);
    }
  }, 90000);

  it('Core §12.2: a refresh gives a fresh ID token with the same sub and auth_time and no nonce', async () => {
    const config = await relyingParty(await oidcClient('RP2'));
    const { tokens } = await signIn(config, 'openid offline_access');
    const first = tokens.claims()!;
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const again = refreshed.claims()!;
    expect(again).toMatchObject({ sub: first.sub, auth_time: first.auth_time, aud: first.aud });
    expect(again.nonce).toBeUndefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  }, 60000);

  it('Core §11: without offline_access an OpenID sign-in gets no refresh token', async () => {
    const config = await relyingParty(await oidcClient('RP3'));
    const { tokens } = await signIn(config, 'openid read');
    expect(tokens.id_token).toBeDefined();
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('openid read');
  }, 60000);

  it('Core §3.1.3.3: no ID token without openid (plain OAuth keeps its refresh token)', async () => {
    const registered = await oidcClient('RP4');
    const config = await relyingParty(registered);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'read',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    const result = await authorize(system, {
      clientId: registered.client_id,
      username: 'alice',
      password,
      extra: Object.fromEntries(url.searchParams),
    });
    const tokens = await client.authorizationCodeGrant(config, new URL(result.location), {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
    });
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.refresh_token).toBeDefined();
  }, 60000);

  it('ID tokens of each alg verify against the JWKS; the access-token key signs no ID token', async () => {
    const config = await relyingParty(await oidcClient('RP5'));
    const { tokens } = await signIn(config, 'openid');
    const jwks = (await (await fetch(`${system.issuer}/jwks`)).json()) as {
      keys: { kid: string; alg: string }[];
    };
    const idKid = decodeProtectedHeader(tokens.id_token!).kid;
    const accessKid = decodeProtectedHeader(tokens.access_token).kid;
    expect(idKid).not.toBe(accessKid);
    expect(jwks.keys.find((k) => k.kid === idKid)).toMatchObject({ alg: 'RS256' });
  }, 60000);

  it('Registration §2: id_token_signed_response_alg ES256 and EdDSA sign with keys of that alg', async () => {
    for (const alg of ['ES256', 'EdDSA']) {
      const registered = await oidcClient(`RP-${alg}`, { id_token_signed_response_alg: alg });
      const { tokens } = await signIn(await relyingParty(registered), 'openid');
      expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg, typ: 'JWT' });
    }
  }, 60000);

  it('Core §8.1: pairwise sub differs per sector, is shared within a sector and stable per client; UserInfo agrees', async () => {
    const pairwise = (name: string, uris: string[]) =>
      register({
        client_name: name,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: uris,
        scope: 'openid',
        subject_type: 'pairwise',
      });
    const a1 = await relyingParty(await pairwise('A1', ['https://a.test/cb']));
    const a2 = await relyingParty(await pairwise('A2', ['https://a.test/cb2']));
    const b = await relyingParty(await pairwise('B', ['https://b.test/cb']));
    const subOf = async (config: client.Configuration, uri: string) => {
      const { tokens } = await signIn(config, 'openid', uri);
      const sub = tokens.claims()!.sub;
      // openid-client checks that the UserInfo sub is the ID token's (Core §5.3.2).
      await client.fetchUserInfo(config, tokens.access_token, sub);
      return sub;
    };
    const first = await subOf(a1, 'https://a.test/cb');
    expect(await subOf(a1, 'https://a.test/cb')).toBe(first);
    expect(await subOf(a2, 'https://a.test/cb2')).toBe(first);
    const other = await subOf(b, 'https://b.test/cb');
    expect(other).not.toBe(first);
    expect([first, other]).not.toContain(alice.sub);
    // A public client still sees the user's own identifier.
    const { tokens } = await signIn(await relyingParty(await oidcClient('PUB')), 'openid');
    expect(tokens.claims()!.sub).toBe(alice.sub);
  }, 90000);

  it('Registration §2: the client information response carries the OpenID metadata; a pairwise client on two hosts is refused', async () => {
    const res = await fetch(`${system.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Two hosts',
        grant_types: ['authorization_code'],
        redirect_uris: ['https://a.test/cb', 'https://b.test/cb'],
        scope: 'openid',
        subject_type: 'pairwise',
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client_metadata');
    const doc = (await oidcClient('Meta', {
      id_token_signed_response_alg: 'EdDSA',
      default_max_age: 600,
      require_auth_time: true,
      post_logout_redirect_uris: ['https://rp.test/bye'],
      backchannel_logout_uri: 'https://rp.test/logout',
      backchannel_logout_session_required: true,
    })) as unknown as Record<string, unknown>;
    expect(doc).toMatchObject({
      id_token_signed_response_alg: 'EdDSA',
      default_max_age: 600,
      require_auth_time: true,
      post_logout_redirect_uris: ['https://rp.test/bye'],
      backchannel_logout_uri: 'https://rp.test/logout',
      backchannel_logout_session_required: true,
    });
  }, 60000);

  it('the CLI registers the OpenID metadata (clients create --id-token-alg --subject-type)', async () => {
    const out = await system.cli([
      'clients',
      'create',
      '--name',
      'CLI RP',
      '--grant',
      'authorization_code',
      '--redirect-uri',
      'https://cli.test/cb',
      '--scope',
      'openid',
      '--id-token-alg',
      'ES256',
      '--subject-type',
      'pairwise',
      '--json',
    ]);
    const doc = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(doc).toMatchObject({ id_token_signed_response_alg: 'ES256', subject_type: 'pairwise' });
  }, 60000);

  it('RP-Initiated Logout 1.0: buildEndSessionUrl with the ID token as hint ends the session, back to the registered URI with state; then prompt=none is login_required', async () => {
    const bye = 'https://rp.test/bye';
    const registered = await oidcClient('RP logout', { post_logout_redirect_uris: [bye] });
    const config = await relyingParty(registered);
    const { tokens, jar } = await signIn(config, 'openid');
    const silent = async () => {
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        prompt: 'none',
        state: 'silent',
      });
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
      return new URL(res.headers.get('location')!).searchParams;
    };
    expect((await silent()).has('code')).toBe(true);

    const state = client.randomState();
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: bye,
      state,
    });
    expect(`${url.origin}${url.pathname}`).toBe(`${system.issuer}/logout`);
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(bye);
    expect(back.searchParams.get('state')).toBe(state);
    expect(res.headers.get('set-cookie')).toMatch(/Max-Age=0/i);

    const after = await silent();
    expect(after.get('error')).toBe('login_required');
    expect(after.has('code')).toBe(false);
  }, 60000);
});
