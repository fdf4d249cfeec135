import { chromium, type Browser } from 'playwright-core';
import { chromiumPath } from './support/chromium.js';
import { freePort, type RunningSystem, startSystem } from './support/system.js';

/**
 * The pages of the authorization endpoint carry the configured product name, colour and logo
 * (BRAND_*), escaped and under a CSP that allows the logo's origin alone; an invalid colour stops
 * the gateway at start; the login page fits a 375 px wide phone without horizontal scrolling.
 */
describe('branded pages (BRAND_PRODUCT_NAME, BRAND_LOGO_URL, BRAND_PRIMARY_COLOR)', () => {
  let system: RunningSystem;
  let browser: Browser | undefined;

  beforeAll(async () => {
    system = await startSystem({
      env: {
        BRAND_PRODUCT_NAME: 'Acme <Sign-in>',
        BRAND_PRIMARY_COLOR: '#aa3300',
        BRAND_LOGO_URL: 'https://cdn.acme.test/logo.png',
      },
    });
  }, 90000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  it('the login page (at /account) and the error page show the configured name, escaped, and the colour', async () => {
    const login = await fetch(`${system.baseUrl}/account`);
    expect(login.status).toBe(200);
    const error = await fetch(`${system.baseUrl}/authorize`);
    expect(error.status).toBe(400);
    for (const res of [login, error]) {
      const html = await res.text();
      expect(html).toContain('<span>Acme &lt;Sign-in&gt;</span>');
      expect(html).not.toContain('Acme <Sign-in>');
      expect(html).toContain('<img src="https://cdn.acme.test/logo.png" alt="">');
      expect(html).toContain('button.primary{background:#aa3300');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("img-src 'self' https://cdn.acme.test;");
      expect(csp).toContain("script-src 'none'");
      expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+';/);
    }
  });

  it('without BRAND_PRODUCT_NAME the pages name the issuer host; no logo, images from self alone', async () => {
    const port = await freePort();
    await system.launch('gateway', 'gateway-plain', {
      HTTP_PORT: String(port),
      BRAND_PRODUCT_NAME: '',
      BRAND_LOGO_URL: '',
      BRAND_PRIMARY_COLOR: '',
    });
    await system.waitOpsReady('gateway-plain');
    const res = await fetch(`http://127.0.0.1:${port}/account`);
    const html = await res.text();
    expect(html).toContain(`<span>${new URL(system.env.ISSUER!).host}</span>`);
    expect(html).not.toContain('<img');
    expect(res.headers.get('content-security-policy')).toContain("img-src 'self';");
    system.children.get('gateway-plain')!.kill('SIGTERM');
  });

  it('a colour that is not #rrggbb stops the gateway at start with a configuration error (78)', async () => {
    const child = await system.launch('gateway', 'gateway-red', {
      HTTP_PORT: String(await freePort()),
      BRAND_PRIMARY_COLOR: 'red',
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(78);
    expect(system.output.join('')).toContain('BRAND_PRIMARY_COLOR must be a colour #rrggbb');
  });

  it('in Chromium at 375 px wide the login page has no horizontal scroll', async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 375, height: 700 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(`${system.baseUrl}/account`);
    await page.getByLabel('Username').waitFor();
    const { scrollWidth, clientWidth } = await page.evaluate<{ scrollWidth: number; clientWidth: number }>(
      '({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth })',
    );
    expect(clientWidth).toBe(375);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await context.close();
  });
});
