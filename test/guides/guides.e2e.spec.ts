import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import type express from 'express';
import { authorize, CookieJar, createUser } from '../support/authorize.js';
import { freePort, type RunningSystem, startSystem } from '../support/system.js';
import { authJsApp } from './authjs-app.js';
import { passportApp } from './passport-app.js';

/**
 * The integrator guides of docs/openid-connect.md, run as written: each recipe is a small Express
 * app (the file the guide quotes verbatim) that signs a real user in through the login and consent
 * pages (test/support/authorize.ts as the browser) and then shows who signed in.
 */
describe('Integrator guides: passport and Auth.js sign in against the server (issue 23)', () => {
  let system: RunningSystem;
  let alice: { sub: string; username: string };
  const password = 'correct horse battery staple 42';
  const servers: Server[] = [];
  const doc = readFileSync(resolve(process.cwd(), 'docs/openid-connect.md'), 'utf8');

  beforeAll(async () => {
    system = await startSystem();
    alice = await createUser(system, 'alice', password, 'alice@example.test');
  }, 120000);

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await system?.stop();
  }, 30000);

  async function register(name: string, redirectUri: string) {
    const res = await fetch(`${system.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: name,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
        scope: 'openid profile email',
      }),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as { client_id: string; client_secret: string };
  }

  async function listen(app: express.Express, port: number): Promise<void> {
    await new Promise<void>((ok) => servers.push(app.listen(port, '127.0.0.1', () => ok())));
  }

  /** A request to the app as the user's browser sends it (its cookies, no redirects followed). */
  async function visit(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.take(res);
    return res;
  }

  /** The login and consent pages for the authorization request the app redirected to. */
  async function signInAtServer(clientId: string, authorizationUrl: string) {
    const url = new URL(authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${system.issuer}/authorize`);
    const result = await authorize(system, {
      clientId,
      username: 'alice',
      password,
      extra: Object.fromEntries(url.searchParams),
    });
    expect(result.code).toBeDefined();
    return result;
  }

  const codeBlock = (file: string) =>
    '```ts\n' + readFileSync(resolve(process.cwd(), 'test/guides', file), 'utf8') + '```';

  it('the guide quotes both recipes verbatim', () => {
    expect(doc).toContain(codeBlock('passport-app.ts'));
    expect(doc).toContain(codeBlock('authjs-app.ts'));
  });

  it('passport with openid-client/passport: code + PKCE, ID token validated, sub and UserInfo claims in req.user', async () => {
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const registered = await register('Passport guide', `${appUrl}/auth/callback`);
    const app = await passportApp({
      issuer: new URL(system.issuer),
      clientId: registered.client_id,
      clientSecret: registered.client_secret,
      appUrl,
      sessionSecret: randomBytes(32).toString('base64url'),
    });
    await listen(app, port);
    const jar = new CookieJar();

    expect((await visit(jar, `${appUrl}/me`)).status).toBe(401);
    const start = await visit(jar, `${appUrl}/login`);
    expect(start.status).toBe(302);
    const authorizationUrl = start.headers.get('location')!;
    const params = new URL(authorizationUrl).searchParams;
    expect(params.get('scope')).toBe('openid profile email');
    expect(params.get('code_challenge_method')).toBe('S256');
    const result = await signInAtServer(registered.client_id, authorizationUrl);
    expect(result.location.startsWith(`${appUrl}/auth/callback?`)).toBe(true);

    const callback = await visit(jar, result.location);
    expect([callback.status, callback.headers.get('location')]).toEqual([302, '/me']);
    const me = await visit(jar, `${appUrl}/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({
      sub: alice.sub,
      preferred_username: 'alice',
      email: 'alice@example.test',
      email_verified: false,
    });

    // A replayed callback (the code is spent, the session's PKCE state consumed) signs nobody in.
    const replay = await visit(new CookieJar(), result.location);
    expect(replay.status).not.toBe(302);
  }, 90000);

  it("Auth.js (@auth/express) with the generic OIDC provider: the session's user is the ID token's sub with UserInfo's email", async () => {
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const registered = await register('Auth.js guide', `${appUrl}/auth/callback/authz`);
    const app = authJsApp({
      issuer: system.issuer,
      clientId: registered.client_id,
      clientSecret: registered.client_secret,
      authSecret: randomBytes(32).toString('base64url'),
    });
    await listen(app, port);
    const jar = new CookieJar();

    expect((await visit(jar, `${appUrl}/me`)).status).toBe(401);
    // Auth.js signs in with a POST that carries its CSRF token (double-submit cookie).
    const { csrfToken } = (await (await visit(jar, `${appUrl}/auth/csrf`)).json()) as { csrfToken: string };
    const start = await visit(jar, `${appUrl}/auth/signin/authz`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrfToken, callbackUrl: `${appUrl}/me` }).toString(),
    });
    expect(start.status).toBe(302);
    const authorizationUrl = start.headers.get('location')!;
    const params = new URL(authorizationUrl).searchParams;
    expect(params.get('scope')).toBe('openid profile email');
    expect(params.get('code_challenge_method')).toBe('S256');
    const result = await signInAtServer(registered.client_id, authorizationUrl);

    const callback = await visit(jar, result.location);
    expect([callback.status, callback.headers.get('location')]).toEqual([302, `${appUrl}/me`]);
    const me = await visit(jar, `${appUrl}/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: alice.sub, name: 'alice', email: 'alice@example.test' });
  }, 90000);
});
