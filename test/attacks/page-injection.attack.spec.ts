import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createUser, pkcePair } from '../support/authorize.js';
import { chromiumPath } from '../support/chromium.js';
import { type RunningSystem, startSystem } from '../support/system.js';

/**
 * Markup and template syntax in every value an attacker can put on the pages (the registered
 * client name, login_hint, the username typed at login, ui_locales, a client_id) is rendered as
 * text: no element is injected, no script runs even with the page's CSP bypassed (so escaping, not
 * the CSP, is what stops it), and neither `{{ }}` nor `<% %>` is evaluated by the template engine.
 */
describe('HTML and template injection through the pages, in Chromium (RFC 6749 §10.14, OAuth 2.1 §7.11)', () => {
  const PAYLOAD = `"'><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">{{7*7}}<%= 7*7 %><%~ it %>`;
  let system: RunningSystem;
  let browser: Browser;
  let context: BrowserContext;
  let callback: Server;
  let redirect: string;
  let clientId: string;

  beforeAll(async () => {
    system = await startSystem();
    callback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('cb'));
    await new Promise<void>((ok) => callback.listen(0, '127.0.0.1', ok));
    redirect = `http://127.0.0.1:${(callback.address() as { port: number }).port}/cb`;
    clientId = (
      await system.createClient([
        '--name',
        `App ${PAYLOAD}`,
        '--grant',
        'authorization_code',
        '--scope',
        'openid read',
        '--redirect-uri',
        redirect,
        '--auth-method',
        'none',
      ])
    ).client_id;
    await createUser(system, 'mallory', 'mallory-password-1');
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    // Without the CSP an unescaped payload would run: what is checked is the markup itself.
    context = await browser.newContext({ bypassCSP: true });
  }, 120000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    callback?.close();
  });

  async function expectInert(page: Page): Promise<string> {
    // Evaluated in the page (a string: this project compiles without the DOM library).
    const found = await page.evaluate<{
      pwned: number | null;
      scripts: number;
      injectedImages: number;
      lang: string;
      text: string;
    }>(`({
      pwned: window.__pwned ?? null,
      scripts: document.querySelectorAll('script').length,
      injectedImages: document.querySelectorAll('img[src="x"], [onerror]').length,
      lang: document.documentElement.lang,
      text: document.body.innerText,
    })`);
    expect(found).toMatchObject({ pwned: null, scripts: 0, injectedImages: 0, lang: 'en' });
    expect(found.text).not.toContain('49');
    return found.text;
  }

  it('AUTHZ-14 / UI-17: client name, login_hint, ui_locales and the typed username show as text; nothing runs or is evaluated', async () => {
    const page = await context.newPage();
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirect,
      // OpenID Connect Core §3.1.2.1: login_hint and ui_locales are read for an openid request.
      scope: 'openid read',
      state: 's',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      login_hint: PAYLOAD,
      ui_locales: PAYLOAD,
    });
    await page.goto(`${system.baseUrl}/authorize?${q}`);
    expect(await expectInert(page)).toContain(`to continue to App ${PAYLOAD}`);
    expect(await page.getByLabel('Username').inputValue()).toBe(PAYLOAD);

    // A failed login shows the login form again with the username as typed.
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    expect(await expectInert(page)).toContain(`App ${PAYLOAD}`);
    expect(await page.getByLabel('Username').inputValue()).toBe(PAYLOAD);

    // The consent page names the client from its registration.
    await page.getByLabel('Username').fill('mallory');
    await page.getByLabel('Password').fill('mallory-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    expect(await expectInert(page)).toContain(`If you allow it, App ${PAYLOAD} will be able to:`);
    expect(await page.title()).toBe(`Allow App ${PAYLOAD}? · ${new URL(system.issuer).host}`);
  });

  it('AUTHZ-14: a hostile client_id on the error page is text', async () => {
    const page = await context.newPage();
    await page.goto(`${system.baseUrl}/authorize?${new URLSearchParams({ client_id: PAYLOAD })}`);
    await expectInert(page);
    expect(await page.getByRole('heading').innerText()).toBe('This request cannot be completed');
  });
});
