import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { authorizeUrl, codeIssuedEvent, createUser, pkcePair } from './support/authorize.js';
import { chromiumPath } from './support/chromium.js';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * Issue 22: browser sessions as events, driven in headless Chromium. A login starts a session
 * (visible on /account and through the admin API, with its coarse user agent and the client it
 * signed in to), signing it out at /account ends it (the next authorization shows the login page),
 * prompt=none answers with a code or login_required (OpenID Connect Core §3.1.2.1, §3.1.2.6),
 * max_age=0 asks for the password again, and the session's events are its audit history.
 */
describe('browser sessions in headless Chromium (OpenID Connect Core §3.1.2.1)', () => {
  let system: RunningSystem;
  let browser: Browser;
  let context: BrowserContext;
  let callback: Server;
  let REDIRECT: string;
  let clientId: string;
  let sub: string;
  const user = { username: 'sally', password: 'sally-password-1' };
  const { challenge } = pkcePair();

  beforeAll(async () => {
    system = await startSystem();
    callback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('cb'));
    await new Promise<void>((ok) => callback.listen(0, '127.0.0.1', ok));
    REDIRECT = `http://127.0.0.1:${(callback.address() as { port: number }).port}/cb`;
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
        '--auth-method',
        'none',
      ])
    ).client_id;
    sub = (await createUser(system, user.username, user.password)).sub;
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext();
  }, 120000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    callback?.close();
  });

  const admin = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${system.adminUrl}/admin${path}`, {
      ...init,
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  type Sessions = {
    sub: string;
    sessions: { sid: string; browser: string; os: string; clients: string[]; amr: string[]; acr: string }[];
  };

  const url = (extra: Record<string, string> = {}, state = 'st') =>
    authorizeUrl(system, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid read',
      codeChallenge: challenge,
      state,
      extra,
    });

  async function logIn(page: Page) {
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function atClient(page: Page) {
    await page.waitForURL((u) => u.toString().startsWith(REDIRECT), { timeout: 15000 });
    return new URL(page.url()).searchParams;
  }

  it('SESS-E2E-01: prompt=none without a session is login_required at the client, with state, no page', async () => {
    const page = await context.newPage();
    await page.goto(url({ prompt: 'none' }, 'silent-1'));
    const q = await atClient(page);
    expect(q.get('error')).toBe('login_required');
    expect(q.get('state')).toBe('silent-1');
    expect(q.get('code')).toBeNull();
  });

  it('SESS-E2E-02: a login starts a session: on /account, in the admin API (coarse user agent, the client, amr pwd), its events its history', async () => {
    const page = await context.newPage();
    await page.goto(url({ login_hint: user.username, ui_locales: 'de en-GB' }));
    await expect(page.getByLabel('Username').inputValue()).resolves.toBe(user.username);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en-GB');
    await logIn(page);
    await page.getByRole('button', { name: 'Allow' }).click();
    const q = await atClient(page);
    const issued = await codeIssuedEvent(system, q.get('code')!);
    expect(issued).toBeDefined();

    const listed = await admin<Sessions>(`/users/${sub}/sessions`);
    expect(listed.status).toBe(200);
    expect(listed.body.sessions).toHaveLength(1);
    const session = listed.body.sessions[0]!;
    expect(session).toMatchObject({
      browser: 'Chrome',
      os: 'Linux',
      clients: [clientId],
      amr: ['pwd'],
      acr: '1',
    });

    await page.goto(`${system.baseUrl}/account`);
    await expect(page.locator('li.session').count()).resolves.toBe(1);
    await expect(page.locator('li.session').textContent()).resolves.toContain('Chrome on Linux');
    await expect(page.locator('li.session').textContent()).resolves.toContain('this browser');

    const history = await admin<{ sid: string; events: { type: string; metadata: { actor?: string } }[] }>(
      `/sessions/${session.sid}/history`,
    );
    expect(history.status).toBe(200);
    expect(history.body.events.map((e) => e.type)).toEqual(['SessionStarted', 'SessionClientAuthorized']);
    expect(history.body.events[0]!.metadata.actor).toBe(`user:${sub}`);
    // The device facts are sealed under the user's key: the audit side shows them as personal data.
    expect(JSON.stringify(history.body)).not.toMatch(/Chrome|Linux|pd1:/);
    const state = await admin<{ status: string; clients: string[]; userAgent: unknown }>(
      `/sessions/${session.sid}`,
    );
    expect(state.body).toMatchObject({
      status: 'active',
      clients: [clientId],
      userAgent: { browser: '[personal data]', os: '[personal data]' },
    });
    const before = await admin<{ status: string; clients: string[] }>(
      `/sessions/${session.sid}?as_of=2000-01-01T00:00:00Z`,
    );
    expect(before.status).toBe(404);
  });

  it('SESS-E2E-03: prompt=none with the session answers with a code, no page', async () => {
    const page = await context.newPage();
    await page.goto(url({ prompt: 'none' }, 'silent-2'));
    const q = await atClient(page);
    expect(q.get('error')).toBeNull();
    expect(q.get('state')).toBe('silent-2');
    expect(await codeIssuedEvent(system, q.get('code')!)).toBeDefined();
  });

  it('SESS-E2E-04: max_age=0 asks for the password again even with a session, then the code (no consent page: remembered)', async () => {
    const page = await context.newPage();
    await page.goto(url({ max_age: '0' }));
    await page.getByLabel('Password').waitFor();
    await logIn(page);
    const q = await atClient(page);
    expect(await codeIssuedEvent(system, q.get('code')!)).toBeDefined();
    // The new login is a new session; the one before it ended as replaced.
    const listed = await admin<Sessions>(`/users/${sub}/sessions`);
    expect(listed.body.sessions).toHaveLength(1);
  });

  it('SESS-E2E-05: signing out at /account ends the session: the next authorization shows the login page, prompt=none login_required; the timeline shows its end', async () => {
    const { body } = await admin<Sessions>(`/users/${sub}/sessions`);
    const sid = body.sessions[0]!.sid;
    const page = await context.newPage();
    await page.goto(`${system.baseUrl}/account`);
    await page.getByRole('button', { name: 'Sign out Chrome on Linux' }).click();
    await page.getByLabel('Password').waitFor();
    expect((await admin<Sessions>(`/users/${sub}/sessions`)).body.sessions).toEqual([]);

    await page.goto(url());
    await page.getByLabel('Password').waitFor();
    await page.goto(url({ prompt: 'none' }, 'silent-3'));
    expect((await atClient(page)).get('error')).toBe('login_required');

    const state = await admin<{ status: string; endReason: string }>(`/sessions/${sid}`);
    expect(state.body).toMatchObject({ status: 'ended', endReason: 'user' });
    const timeline = await fetch(`${system.adminUrl}/admin/audit/sessions/${sid}`, {
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    const html = await timeline.text();
    expect(timeline.status).toBe(200);
    expect(html).toContain('Session started');
    expect(html).toContain('Session ended');
  });

  it('SESS-E2E-06: the CLI lists a session, an administrator ends it through the admin API; the browser must log in again', async () => {
    const page = await context.newPage();
    await page.goto(url());
    await logIn(page);
    await atClient(page);
    const { body } = await admin<Sessions>(`/users/${sub}/sessions`);
    expect(body.sessions).toHaveLength(1);
    // The CLI (over NATS) lists the same session.
    const cli = JSON.parse(
      (await system.cli(['users', 'sessions', user.username, '--json'])).trim().split('\n').pop()!,
    ) as Sessions;
    expect(cli.sessions.map((s) => s.sid)).toEqual([body.sessions[0]!.sid]);
    const ended = await admin<{ ended: boolean }>(`/users/${sub}/sessions/${body.sessions[0]!.sid}`, {
      method: 'DELETE',
    });
    expect(ended).toEqual({ status: 200, body: { ended: true } });
    await page.goto(url({ prompt: 'none' }, 'silent-4'));
    expect((await atClient(page)).get('error')).toBe('login_required');
  });

  it('SESS-E2E-07: RP-initiated logout: the end-session endpoint asks, the user confirms, the session ends (reason logout) and prompt=none is login_required', async () => {
    const page = await context.newPage();
    await page.goto(url());
    await logIn(page);
    await atClient(page);
    const { body } = await admin<Sessions>(`/users/${sub}/sessions`);
    const sid = body.sessions[0]!.sid;
    await page.goto(`${system.baseUrl}/logout?client_id=${clientId}&state=bye`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('You are signed out');
    const state = await admin<{ status: string; endReason: string }>(`/sessions/${sid}`);
    expect(state.body).toMatchObject({ status: 'ended', endReason: 'logout' });
    await page.goto(url({ prompt: 'none' }, 'silent-5'));
    expect((await atClient(page)).get('error')).toBe('login_required');
  });

  it('SESS-E2E-08: RP-initiated logout to a registered post_logout_redirect_uri: confirmed in the browser (CSP form-action lets the redirect through), back at the client with state', async () => {
    const bye = `${new URL(REDIRECT).origin}/bye`;
    const res = await fetch(`${system.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Logout Redirect App',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [REDIRECT],
        post_logout_redirect_uris: [bye],
        scope: 'openid read',
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(res.status).toBe(201);
    const rp = ((await res.json()) as { client_id: string }).client_id;
    const page = await context.newPage();
    await page.goto(
      authorizeUrl(system, {
        clientId: rp,
        redirectUri: REDIRECT,
        scope: 'openid',
        codeChallenge: challenge,
        state: 'in',
      }),
    );
    await logIn(page);
    await page.getByRole('button', { name: 'Allow' }).click();
    await atClient(page);
    await page.goto(
      `${system.baseUrl}/logout?client_id=${rp}&post_logout_redirect_uri=${encodeURIComponent(bye)}&state=bye-8`,
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.toString().startsWith(bye), { timeout: 15000 });
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye-8');
    await page.goto(url({ prompt: 'none' }, 'silent-8'));
    expect((await atClient(page)).get('error')).toBe('login_required');
  });
});
