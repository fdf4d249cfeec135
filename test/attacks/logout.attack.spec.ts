import { generateKeyPair, SignJWT } from 'jose';
import {
  authorize,
  type CookieJar,
  createUser,
  eventsOfType,
  hiddenField,
  pkcePair,
  postPage,
} from '../support/authorize.js';
import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

interface Registered {
  client_id: string;
  client_secret: string;
}

/**
 * OpenID Connect RP-Initiated Logout 1.0 §2, §3 (issue 22) performed as an attacker would: where
 * the end-session endpoint may send a browser (RFC 9700 §4.11 open redirector), which
 * `id_token_hint` it believes, and whose session a hint can end.
 */
describe('RP-initiated logout: post_logout_redirect_uri, state and id_token_hint attacks', () => {
  let system: RunningSystem;
  let rp: Registered;
  let other: Registered;
  const REDIRECT = 'https://rp.test/cb';
  const BYE = 'https://rp.test/bye';
  const alice = { username: 'alice-lo', password: 'alice-password-1' };
  const bob = { username: 'bob-lo', password: 'bob-password-123' };

  async function register(name: string): Promise<Registered> {
    const res = await fetch(`${system.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: name,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [REDIRECT],
        scope: 'openid',
        post_logout_redirect_uris: [BYE],
      }),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Registered;
  }

  beforeAll(async () => {
    system = await startSystem();
    rp = await register('Logout RP');
    other = await register('Other RP');
    await createUser(system, alice.username, alice.password);
    await createUser(system, bob.username, bob.password);
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  });

  /** A signed-in browser and the ID token its client got. */
  async function signIn(user: typeof alice, client = rp): Promise<{ jar: CookieJar; idToken: string }> {
    const { verifier, challenge } = pkcePair();
    const result = await authorize(system, {
      clientId: client.client_id,
      redirectUri: REDIRECT,
      scope: 'openid',
      codeChallenge: challenge,
      ...user,
    });
    const res = await postForm(
      `${system.baseUrl}/token`,
      {
        grant_type: 'authorization_code',
        code: result.code!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      },
      { authorization: basic(client.client_id, client.client_secret) },
    );
    const body = (await res.json()) as { id_token?: string };
    if (!body.id_token) throw new Error(`no ID token: ${JSON.stringify(body)}`);
    return { jar: result.jar, idToken: body.id_token };
  }

  const logout = (jar: CookieJar | undefined, query: Record<string, string>) =>
    fetch(`${system.baseUrl}/logout?${new URLSearchParams(query).toString()}`, {
      redirect: 'manual',
      headers: jar ? { cookie: jar.header() } : {},
    });
  const account = async (jar: CookieJar) =>
    (
      await fetch(`${system.baseUrl}/account`, { redirect: 'manual', headers: { cookie: jar.header() } })
    ).text();
  const endedCount = async () =>
    (await eventsOfType<{ reason: string }>(system, 'SessionEnded')).filter((e) => e.data.reason === 'logout')
      .length;

  it('LOGOUT-03: an unregistered post_logout_redirect_uri is never followed, with a valid hint or after the confirmation', async () => {
    const { jar, idToken } = await signIn(alice);
    for (const uri of ['https://evil.test/', `${BYE}/`, `${BYE}?x=1`, 'https://RP.test/bye', `${BYE}#f`]) {
      const res = await logout(undefined, {
        client_id: rp.client_id,
        post_logout_redirect_uri: uri,
        state: 's',
      });
      expect([uri, res.status, res.headers.get('location')]).toEqual([uri, 200, null]);
    }
    // A URI registered by another client is not this client's.
    const page = await logout(jar, {
      client_id: other.client_id,
      post_logout_redirect_uri: 'https://evil.test/',
    });
    expect(page.status).toBe(200);
    const csrf = hiddenField(await page.text(), 'csrf');
    const confirmed = await postPage(
      system,
      '/logout/confirm',
      { csrf, client_id: rp.client_id, post_logout_redirect_uri: 'https://evil.test/', state: 's' },
      jar,
    );
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get('location')).toBeNull();
    // A valid hint that names the session ends it, but still goes nowhere unregistered.
    const second = await signIn(alice);
    const direct = await logout(second.jar, {
      id_token_hint: second.idToken,
      post_logout_redirect_uri: 'https://evil.test/',
      state: 's',
    });
    expect(direct.status).toBe(200);
    expect(direct.headers.get('location')).toBeNull();
    expect(await direct.text()).not.toContain('evil.test');
    expect(idToken).toBeTruthy();
  }, 60000);

  it('LOGOUT-04: state is reflected only on a redirect to a registered URI, never into a page', async () => {
    const marker = '"><script>alert(1)</script>';
    const none = await logout(undefined, { state: marker, post_logout_redirect_uri: 'https://evil.test/' });
    expect(none.status).toBe(200);
    expect(await none.text()).not.toContain('alert(1)');
    const ok = await logout(undefined, {
      client_id: rp.client_id,
      post_logout_redirect_uri: BYE,
      state: marker,
    });
    expect(ok.status).toBe(303);
    const location = new URL(ok.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(BYE);
    expect(location.searchParams.get('state')).toBe(marker);
  });

  it('LOGOUT-05: a forged, other-issuer, access-token or other-client id_token_hint is invalid_request and ends nothing', async () => {
    const { jar, idToken } = await signIn(alice);
    const before = await endedCount();
    const [header, payload] = idToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .sign(privateKey);
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'x' })).toString('base64url')}.${idToken.split('.')[2]}`;
    const otherIssuer = await new SignJWT({ ...claims, iss: 'https://evil.test' })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .sign(privateKey);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${payload}.`;
    // An access token is signed by this server, but by an access-token key: not an ID token.
    const { verifier, challenge } = pkcePair();
    const code = (
      await authorize(system, {
        clientId: rp.client_id,
        redirectUri: REDIRECT,
        scope: 'openid',
        codeChallenge: challenge,
        jar,
        ...alice,
      })
    ).code!;
    const accessToken = (
      (await (
        await postForm(
          `${system.baseUrl}/token`,
          { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
          { authorization: basic(rp.client_id, rp.client_secret) },
        )
      ).json()) as { access_token: string }
    ).access_token;
    for (const hint of [forged, tampered, otherIssuer, unsigned, accessToken, 'not-a-jwt']) {
      const res = await logout(jar, { id_token_hint: hint, post_logout_redirect_uri: BYE, state: 's' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('invalid_request');
    }
    // A genuine hint for one client, sent with another's client_id.
    const mismatch = await logout(jar, {
      id_token_hint: idToken,
      client_id: other.client_id,
      post_logout_redirect_uri: BYE,
    });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('invalid_request');
    expect(await endedCount()).toBe(before);
    expect(await account(jar)).toContain('Sign out everywhere');
  }, 60000);

  it("LOGOUT-06: a genuine hint for another user's session does not end the victim's: the victim is asked", async () => {
    const victim = await signIn(alice);
    const attacker = await signIn(bob);
    const before = await endedCount();
    // The attacker makes the victim's browser open the endpoint with the attacker's own ID token.
    const res = await logout(victim.jar, {
      id_token_hint: attacker.idToken,
      post_logout_redirect_uri: BYE,
      state: 's',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('action="/logout/confirm"');
    // The victim's own earlier hint of an ended session does not skip the question either.
    const old = await signIn(alice);
    await logout(old.jar, { id_token_hint: old.idToken });
    const fresh = await signIn(alice, rp);
    const stale = await logout(fresh.jar, { id_token_hint: old.idToken });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toContain('action="/logout/confirm"');
    expect(await endedCount()).toBe(before + 1);
    expect(await account(victim.jar)).toContain('Sign out everywhere');
    expect(await account(attacker.jar)).toContain('Sign out everywhere');
    expect(await account(fresh.jar)).toContain('Sign out everywhere');
  }, 60000);

  it('LOGOUT-07: a hint naming the current session ends it and redirects to the registered URI with state', async () => {
    const { jar, idToken } = await signIn(alice);
    const before = await endedCount();
    const res = await logout(jar, { id_token_hint: idToken, post_logout_redirect_uri: BYE, state: 'st-1' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${BYE}?state=st-1`);
    expect(await endedCount()).toBe(before + 1);
    expect(await account(jar)).not.toContain('Sign out everywhere');
  }, 60000);

  it('LOGOUT-08: without a hint the question is asked; confirmed, the registered redirect and state follow', async () => {
    const { jar } = await signIn(alice);
    const page = await logout(jar, { client_id: rp.client_id, post_logout_redirect_uri: BYE, state: 'st-2' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(page.headers.get('content-security-policy')).toContain('https://rp.test');
    const confirmed = await postPage(
      system,
      '/logout/confirm',
      {
        csrf: hiddenField(html, 'csrf'),
        client_id: hiddenField(html, 'client_id'),
        post_logout_redirect_uri: hiddenField(html, 'post_logout_redirect_uri'),
        state: hiddenField(html, 'state'),
      },
      jar,
    );
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe(`${BYE}?state=st-2`);
  }, 60000);
});
