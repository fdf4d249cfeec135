import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { codeIssuedEvent, createUser, pkcePair } from './support/authorize.js';
import { postForm, type RunningSystem, startSystem } from './support/system.js';
import { chromiumPath } from './support/chromium.js';

const ARTIFACTS = resolve(process.cwd(), 'test-artifacts');

/**
 * The authorization code + PKCE flow driven through the login and consent pages in real headless
 * Chromium (Debian `chromium`): a user logs in, allows, and the browser is sent to the client's
 * redirect URI with a code, state and iss; then again with the consent remembered (no consent
 * page), and once more after revoking it at /account (the page comes back).
 */
describe('authorization code flow in headless Chromium (RFC 6749 §4.1, RFC 7636, RFC 9207)', () => {
  let system: RunningSystem;
  let browser: Browser;
  let context: BrowserContext;
  let clientId: string;
  let callback: Server;
  /** The client's redirection endpoint: a loopback server of this test (RFC 8252 §7.3). */
  let REDIRECT: string;
  const user = { username: 'carol', password: 'carol-password-1' };

  beforeAll(async () => {
    system = await startSystem();
    callback = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end('client callback'),
    );
    await new Promise<void>((ok) => callback.listen(0, '127.0.0.1', ok));
    REDIRECT = `http://127.0.0.1:${(callback.address() as { port: number }).port}/cb`;
    clientId = (
      await system.createClient([
        '--name',
        'Photo <Printer>',
        '--grant',
        'authorization_code',
        '--scope',
        'read write',
        '--redirect-uri',
        REDIRECT,
        '--auth-method',
        'none',
      ])
    ).client_id;
    await createUser(system, user.username, user.password);
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    // A phone-sized viewport (issue 4: readable on a phone).
    context = await browser.newContext({ viewport: { width: 390, height: 780 }, deviceScaleFactor: 1 });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 90000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    callback?.close();
  });

  function watch(page: Page) {
    const violations: string[] = [];
    const external: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused/i.test(m.text())) violations.push(m.text());
    });
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(system.baseUrl) && !url.startsWith(REDIRECT)) external.push(url);
    });
    return { violations, external };
  }

  function authorizeUrl(state: string, challenge: string): string {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope: 'read write',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    return `${system.baseUrl}/authorize?${q}`;
  }

  async function expectCode(page: Page, state: string, challenge: string) {
    await page.waitForURL((u) => u.toString().startsWith(REDIRECT), { timeout: 15000 });
    const url = new URL(page.url());
    expect(url.searchParams.get('state')).toBe(state);
    expect(url.searchParams.get('iss')).toBe(system.issuer);
    expect(url.searchParams.get('error')).toBeNull();
    const code = url.searchParams.get('code')!;
    const issued = await codeIssuedEvent(system, code);
    expect(issued?.data).toMatchObject({
      clientId,
      scope: ['read', 'write'],
      codeChallenge: challenge,
      deliveredTo: REDIRECT,
    });
    // The username stays with its owner, the consent service (docs/privacy-and-retention.md).
    expect(issued?.data).not.toHaveProperty('username');
    return code;
  }

  it('AUTHZ-01 / UI-18: login page, consent page (Allow), the code at the redirect URI, exchanged once at /token; screenshots of both pages', async () => {
    const page = await context.newPage();
    const seen = watch(page);
    const { challenge, verifier } = pkcePair();
    await page.goto(authorizeUrl('s-1', challenge));
    // The login page: labelled inputs named username and password, and a submit button.
    await expect(page.getByLabel('Username').getAttribute('name')).resolves.toBe('username');
    await expect(page.getByLabel('Password').getAttribute('name')).resolves.toBe('password');
    await page.screenshot({ path: resolve(ARTIFACTS, 'authorize-login-page.png'), fullPage: true });
    // Keyboard only: the username has the focus, Tab goes to the password, then to Sign in.
    const focused = () =>
      page.evaluate<string>(
        "document.activeElement.getAttribute('name') || document.activeElement.textContent",
      );
    await expect(focused()).resolves.toBe('username');
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toBe('password');
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toBe('Sign in');
    // A wrong password shows the form again with an error.
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/not correct/);
    // Keyboard only: type, Enter submits.
    await page.getByLabel('Password').focus();
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    // The consent page: the client's registered name (escaped), each scope described, Allow and Deny.
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await expect(page.locator('h1').textContent()).resolves.toContain('Photo <Printer>');
    await expect(page.locator('ul.scopes li').count()).resolves.toBe(2);
    await expect(page.getByRole('button', { name: 'Deny' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: resolve(ARTIFACTS, 'authorize-consent-page.png'), fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();
    const code = await expectCode(page, 's-1', challenge);
    // The client redeems the code at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5).
    const token = await postForm(`${system.baseUrl}/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
    });
    const body = (await token.json()) as Record<string, unknown>;
    expect({ status: token.status, token_type: body.token_type, scope: body.scope }).toEqual({
      status: 200,
      token_type: 'Bearer',
      scope: 'read write',
    });
    expect(decodeJwt(body.access_token as string)).toMatchObject({
      client_id: clientId,
      scope: 'read write',
    });
    // Single use (RFC 6749 §4.1.2): the same code again is invalid_grant.
    const replay = await postForm(`${system.baseUrl}/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
    });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
    expect(seen.external).toEqual([]);
    expect(seen.violations).toEqual([]);
    await page.close();
  }, 60000);

  it('a remembered consent: the same client asking again goes straight back with a code (no login, no consent page)', async () => {
    const page = await context.newPage();
    const pages: string[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(system.baseUrl)) pages.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    const { challenge } = pkcePair();
    await page.goto(authorizeUrl('s-2', challenge));
    await expectCode(page, 's-2', challenge);
    expect(pages).toEqual(['303 /authorize']);
    await page.close();
  }, 60000);

  it('after revoking the consent at /account, the consent page comes back', async () => {
    const page = await context.newPage();
    await page.goto(`${system.baseUrl}/account`);
    await expect(page.locator('main').textContent()).resolves.toContain('Photo <Printer>');
    await page.screenshot({ path: resolve(ARTIFACTS, 'account-page.png'), fullPage: true });
    await page.getByRole('button', { name: /Revoke/ }).click();
    await page.waitForURL(`${system.baseUrl}/account`);
    await expect(page.locator('main').textContent()).resolves.toContain('No application has access');
    const { challenge } = pkcePair();
    await page.goto(authorizeUrl('s-3', challenge));
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    await expectCode(page, 's-3', challenge);
    await page.close();
  }, 60000);

  it('AUTHZ-29: Deny sends the browser back with access_denied, state and iss', async () => {
    const page = await context.newPage();
    await system.cli(['users', 'revoke-consent', user.username, clientId]);
    const { challenge } = pkcePair();
    await page.goto(authorizeUrl('s-4', challenge));
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL((u) => u.toString().startsWith(REDIRECT));
    const url = new URL(page.url());
    expect(url.searchParams.get('error')).toBe('access_denied');
    expect(url.searchParams.get('state')).toBe('s-4');
    expect(url.searchParams.get('iss')).toBe(system.issuer);
    expect(url.searchParams.get('code')).toBeNull();
    await page.close();
  }, 60000);

  it('UI-02: a page of another origin cannot frame the consent page', async () => {
    const page = await context.newPage();
    await context.route('https://evil.example/**', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: `<iframe id="f" src="${system.baseUrl}/account"></iframe>`,
      }),
    );
    await page.goto('https://evil.example/frame');
    await page.waitForTimeout(1000);
    const frames = page.frames().filter((f) => f !== page.mainFrame());
    expect(frames.length).toBe(1);
    const content = await frames[0]!.content().catch(() => '');
    // Neither the account page nor the login page it falls back to is rendered in the frame.
    expect(content).not.toContain('Your account');
    expect(content).not.toContain('Sign in');
    await page.close();
  }, 60000);
});
