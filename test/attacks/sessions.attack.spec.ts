import { parseKeyset } from '#lib/keysets';
import { Sealer } from '#lib/domain-authorization';
import {
  authorize,
  authorizeUrl,
  CookieJar,
  createUser,
  eventsOfType,
  hiddenField,
  pkcePair,
  postPage,
} from '../support/authorize.js';
import { type RunningSystem, startSystem } from '../support/system.js';

/**
 * Issue 22 (sessions as events, OpenID Connect Core §3.1.2.1), performed as an attacker would:
 * whose session a cookie can open, who may end a session, what prompt=none and login_hint give
 * away, and whether a login can be pinned to a session id chosen before it (session fixation).
 */
describe('browser sessions and authentication request parameters: attacks', () => {
  let system: RunningSystem;
  let clientId: string;
  const REDIRECT = 'https://app.test/cb';
  const { challenge } = pkcePair();
  const alice = { username: 'alice-s', password: 'alice-password-1' };
  const bob = { username: 'bob-s', password: 'bob-password-12' };
  let aliceSub: string;
  let bobSub: string;

  beforeAll(async () => {
    system = await startSystem();
    clientId = (
      await system.createClient([
        '--name',
        'Sessions App',
        '--grant',
        'authorization_code',
        '--scope',
        'openid read',
        '--redirect-uri',
        REDIRECT,
      ])
    ).client_id;
    aliceSub = (await createUser(system, alice.username, alice.password)).sub;
    bobSub = (await createUser(system, bob.username, bob.password)).sub;
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  });

  const cookie = (jar: CookieJar) => jar.cookies.get('authz_session');
  const login = (
    user: { username: string; password: string },
    jar = new CookieJar(),
    scope = 'openid read',
  ) =>
    authorize(system, {
      clientId,
      redirectUri: REDIRECT,
      scope,
      codeChallenge: challenge,
      state: 'st',
      ...user,
      jar,
    });
  const page = async (path: string, jar: CookieJar) => {
    const res = await fetch(`${system.baseUrl}${path}`, {
      redirect: 'manual',
      headers: { cookie: jar.header() },
    });
    jar.take(res);
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  };
  const silent = (jar: CookieJar, extra: Record<string, string> = {}) =>
    fetch(
      authorizeUrl(system, {
        clientId,
        redirectUri: REDIRECT,
        scope: 'openid read',
        codeChallenge: challenge,
        state: 'st',
        extra: { prompt: 'none', ...extra },
      }),
      { redirect: 'manual', headers: { cookie: jar.header() } },
    );
  const sidsOf = async (sub: string) =>
    (await eventsOfType<{ sid: string; sub: string }>(system, 'SessionStarted'))
      .filter((e) => e.data.sub === sub)
      .map((e) => e.data.sid);
  const endedSids = async () =>
    (await eventsOfType<{ sid: string; reason: string }>(system, 'SessionEnded')).map((e) => e.data);
  const adminFetch = (path: string, init: RequestInit = {}, token: string | null = system.adminToken) =>
    fetch(`${system.adminUrl}/admin${path}`, {
      ...init,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  it('SESS-01: an altered or foreign session cookie opens no session (login page, prompt=none login_required)', async () => {
    const { jar } = await login(alice);
    const sealed = cookie(jar)!;
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    const altered = new CookieJar();
    altered.cookies.set('authz_session', flipped);
    expect((await page('/account', altered)).html).toContain('action="/login"');
    const res = await silent(altered);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  it("SESS-02: a cookie naming another user's sid (even sealed with the server's key) opens nothing", async () => {
    const bobJar = (await login(bob)).jar;
    expect(bobJar.cookies.has('authz_session')).toBe(true);
    const bobSid = (await sidsOf(bobSub)).pop()!;
    // Grey-box: the attacker is given the cookie key; the stream still names bob, not alice.
    const sealer = new Sealer(
      parseKeyset(system.env.COOKIE_SEALING_KEYS, { setting: 'COOKIE_SEALING_KEYS' }),
      'login-session',
    );
    const forged = new CookieJar();
    const now = Date.now();
    forged.cookies.set(
      'authz_session',
      await sealer.seal({ sid: bobSid, sub: aliceSub, authTime: now, exp: now + 3600_000 }),
    );
    expect((await page('/account', forged)).html).toContain('action="/login"');
    // An unknown sid, well sealed: nothing either.
    const unknown = new CookieJar();
    unknown.cookies.set(
      'authz_session',
      await sealer.seal({ sid: 'x'.repeat(43), sub: aliceSub, authTime: now, exp: now + 3600_000 }),
    );
    expect((await page('/account', unknown)).html).toContain('action="/login"');
  });

  it("SESS-03: a user cannot end another user's session from /account; nor without the form's CSRF token or cross-site", async () => {
    const bobJar = (await login(bob)).jar;
    const bobSid = (await sidsOf(bobSub)).pop()!;
    const aliceJar = (await login(alice)).jar;
    const account = await page('/account', aliceJar);
    const csrf = hiddenField(account.html, 'csrf');
    const foreign = await postPage(system, '/account/sessions/end', { csrf, sid: bobSid }, aliceJar);
    expect(foreign.status).toBe(403);
    const noCsrf = await postPage(system, '/account/sessions/end', { all: '1' }, aliceJar);
    expect(noCsrf.status).toBe(403);
    const cross = await postPage(system, '/account/sessions/end', { csrf, all: '1' }, aliceJar, {
      origin: 'https://evil.test',
      'sec-fetch-site': 'cross-site',
    });
    expect(cross.status).toBe(403);
    expect((await endedSids()).map((e) => e.sid)).not.toContain(bobSid);
    expect((await page('/account', bobJar)).html).toContain('Sign out everywhere');
    expect((await page('/account', aliceJar)).html).toContain('Sign out everywhere');
  });

  it("SESS-04: the admin API lists and ends sessions only with the admin token, and only the named user's", async () => {
    const bobJar = (await login(bob)).jar;
    const bobSid = (await sidsOf(bobSub)).pop()!;
    expect((await adminFetch(`/users/${bobSub}/sessions`, {}, null)).status).toBe(401);
    expect((await adminFetch(`/users/${bobSub}/sessions/${bobSid}`, { method: 'DELETE' }, null)).status).toBe(
      401,
    );
    // A bearer that is not an admin token: the user's own access token, or garbage.
    expect(
      (await adminFetch(`/users/${bobSub}/sessions/${bobSid}`, { method: 'DELETE' }, 'not-a-token')).status,
    ).toBe(401);
    // The public listener does not serve the admin API at all.
    const publicDelete = await fetch(`${system.baseUrl}/admin/users/${bobSub}/sessions/${bobSid}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    expect(publicDelete.status).toBe(404);
    // Under another user's sub, bob's sid does not exist.
    const crossed = await adminFetch(`/users/${aliceSub}/sessions/${bobSid}`, { method: 'DELETE' });
    expect(crossed.status).toBe(404);
    expect((await endedSids()).map((e) => e.sid)).not.toContain(bobSid);
    expect((await page('/account', bobJar)).html).toContain('Sign out everywhere');
    const malformed = await adminFetch(`/users/${bobSub}/sessions/..%2F..`, { method: 'DELETE' });
    expect([400, 404]).toContain(malformed.status);
  });

  it('SESS-05: prompt=none tells nothing of whether a login_hint names a user: the same login_required', async () => {
    const known = await silent(new CookieJar(), { login_hint: alice.username });
    const unknown = await silent(new CookieJar(), { login_hint: 'nobody-at-all' });
    expect(known.status).toBe(303);
    expect(unknown.status).toBe(303);
    const strip = (l: string) => new URL(l).searchParams.toString();
    expect(strip(known.headers.get('location')!)).toBe(strip(unknown.headers.get('location')!));
    expect(new URL(known.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    expect(known.headers.get('location')!.startsWith(REDIRECT)).toBe(true);
  });

  it('SESS-06: login_hint is shown escaped in the login form (no markup, no attribute break-out)', async () => {
    const hint = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;
    const res = await fetch(
      authorizeUrl(system, {
        clientId,
        redirectUri: REDIRECT,
        scope: 'openid read',
        codeChallenge: challenge,
        extra: { login_hint: hint, ui_locales: '"><b>x</b> en' },
      }),
      { redirect: 'manual' },
    );
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<html lang="en">');
  });

  it('SESS-07: session fixation: every login gets a new sid, the one before it ends and its cookie opens nothing', async () => {
    const jar = new CookieJar();
    await login(alice, jar);
    const first = cookie(jar)!;
    const sidsBefore = await sidsOf(aliceSub);
    const again = await authorize(system, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid read',
      codeChallenge: challenge,
      ...alice,
      jar,
      extra: { prompt: 'login' },
    });
    expect(again.loginShown).toBe(true);
    expect(again.code).toBeDefined();
    const second = cookie(jar)!;
    expect(second).not.toBe(first);
    const sidsAfter = await sidsOf(aliceSub);
    expect(sidsAfter.length).toBe(sidsBefore.length + 1);
    const replaced = (await endedSids()).filter((e) => e.reason === 'replaced').map((e) => e.sid);
    expect(replaced).toContain(sidsBefore[sidsBefore.length - 1]);
    const old = new CookieJar();
    old.cookies.set('authz_session', first);
    expect((await page('/account', old)).html).toContain('action="/login"');
  });

  it('SESS-08: prompt=none combined with another value is invalid_request, never a page once logged in', async () => {
    const { jar } = await login(alice);
    const res = await fetch(
      authorizeUrl(system, {
        clientId,
        redirectUri: REDIRECT,
        scope: 'openid read',
        codeChallenge: challenge,
        state: 'st',
        extra: { prompt: 'none login' },
      }),
      { redirect: 'manual', headers: { cookie: jar.header() } },
    );
    expect(res.status).toBe(303);
    const q = new URL(res.headers.get('location')!).searchParams;
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('state')).toBe('st');
  });
});

/**
 * OpenID Connect RP-Initiated Logout 1.0 without id_token_hint verification: a request alone never
 * ends a session (a confirmation page, CSRF-safe), and it never redirects to an unregistered URI.
 */
describe('the end-session endpoint: attacks', () => {
  let system: RunningSystem;
  let clientId: string;
  const REDIRECT = 'https://app.test/cb';
  const user = { username: 'lou', password: 'lou-password-12' };

  beforeAll(async () => {
    system = await startSystem();
    clientId = (
      await system.createClient([
        '--name',
        'Logout App',
        '--grant',
        'authorization_code',
        '--scope',
        'openid',
        '--redirect-uri',
        REDIRECT,
      ])
    ).client_id;
    await createUser(system, user.username, user.password);
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  });

  const signedIn = async () =>
    (
      await authorize(system, {
        clientId,
        redirectUri: REDIRECT,
        scope: 'openid',
        codeChallenge: pkcePair().challenge,
        ...user,
      })
    ).jar;
  const open = async (jar: CookieJar) =>
    (
      await fetch(`${system.baseUrl}/account`, { redirect: 'manual', headers: { cookie: jar.header() } })
    ).text();
  const ended = async () =>
    (await eventsOfType<{ reason: string }>(system, 'SessionEnded')).filter(
      (e) => e.data.reason === 'logout',
    );

  it('LOGOUT-01: a GET or POST of the endpoint (a link or form on another site) ends nothing: it asks', async () => {
    const jar = await signedIn();
    const evil = `post_logout_redirect_uri=${encodeURIComponent('https://evil.test/')}&state=x&client_id=${clientId}`;
    const get = await fetch(`${system.baseUrl}/logout?${evil}`, {
      redirect: 'manual',
      headers: { cookie: jar.header() },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('location')).toBeNull();
    expect(await get.text()).toContain('action="/logout/confirm"');
    const post = await postPage(system, '/logout', Object.fromEntries(new URLSearchParams(evil)), jar, {
      origin: 'https://evil.test',
      'sec-fetch-site': 'cross-site',
    });
    expect(post.status).toBe(200);
    expect(await ended()).toEqual([]);
    expect(await open(jar)).toContain('Sign out everywhere');
  });

  it('LOGOUT-02: the confirmation needs its CSRF token and a same-site post; confirmed, no redirect to an unregistered URI', async () => {
    const jar = await signedIn();
    const page = await (
      await fetch(
        `${system.baseUrl}/logout?post_logout_redirect_uri=${encodeURIComponent('https://evil.test/')}`,
        {
          headers: { cookie: jar.header() },
        },
      )
    ).text();
    const csrf = hiddenField(page, 'csrf');
    expect((await postPage(system, '/logout/confirm', {}, jar)).status).toBe(403);
    expect(
      (
        await postPage(system, '/logout/confirm', { csrf }, jar, {
          origin: 'https://evil.test',
          'sec-fetch-site': 'cross-site',
        })
      ).status,
    ).toBe(403);
    // Another browser's token does not confirm this one's logout.
    const other = await signedIn();
    const otherCsrf = hiddenField(
      await (await fetch(`${system.baseUrl}/logout`, { headers: { cookie: other.header() } })).text(),
      'csrf',
    );
    expect((await postPage(system, '/logout/confirm', { csrf: otherCsrf }, jar)).status).toBe(403);
    expect(await ended()).toEqual([]);
    const confirmed = await postPage(
      system,
      '/logout/confirm',
      { csrf, post_logout_redirect_uri: 'https://evil.test/' },
      jar,
    );
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get('location')).toBeNull();
    expect(await confirmed.text()).toContain('You are signed out');
    expect(await ended()).toHaveLength(1);
    expect(jar.cookies.has('authz_session')).toBe(false);
    expect(await open(other)).toContain('Sign out everywhere');
  });
});
