import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';
import { chromiumPath } from './support/chromium.js';

const ARTIFACTS = resolve(process.cwd(), 'test-artifacts');

/** The audit timeline pages, rendered in real headless Chromium (Debian `chromium`). */
describe('audit timeline page in headless Chromium', () => {
  let system: RunningSystem;
  let browser: Browser;
  let client: { client_id: string; client_secret: string };
  let jti: string;

  beforeAll(async () => {
    system = await startSystem();
    client = await system.createClient([
      '--name',
      'Timeline <svc>',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
    const auth = { authorization: basic(client.client_id, client.client_secret) };
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      auth,
    );
    const { access_token } = (await res.json()) as { access_token: string };
    jti = decodeJwt(access_token).jti!;
    expect((await postForm(`${system.baseUrl}/revoke`, { token: access_token }, auth)).status).toBe(200);
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 90000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  async function open(path: string, name: string) {
    const context = await browser.newContext({
      extraHTTPHeaders: { authorization: `Bearer ${system.adminToken}` },
      viewport: { width: 1000, height: 700 },
    });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const response = await page.goto(`${system.adminUrl}${path}`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.screenshot({ path: resolve(ARTIFACTS, name), fullPage: true });
    return { page, context, violations, requests };
  }

  it("shows a token's life (issued, revoked) with who, when and which client; styled under its CSP", async () => {
    const { page, context, violations, requests } = await open(
      `/admin/audit/tokens/${jti}`,
      'audit-token-timeline.png',
    );
    try {
      const items = page.locator('ol > li');
      expect(await items.count()).toBe(2);
      expect(await items.nth(0).locator('.what').textContent()).toBe('Access token issued');
      expect(await items.nth(1).locator('.what').textContent()).toBe('Access token revoked');
      expect(await items.nth(0).locator('.meta').textContent()).toContain(`by client:${client.client_id}`);
      expect(await items.nth(1).locator('.meta').textContent()).toContain(`client ${client.client_id}`);
      expect(await page.locator('dd').first().textContent()).toBe('revoked');
      // The inline style ran (allowed by its hash): the timeline's rail is drawn.
      const rail = await page.evaluate("getComputedStyle(document.querySelector('ol')).borderLeftWidth");
      expect(rail).toBe('3px');
      expect(violations).toEqual([]);
      expect(requests.every((u) => u.startsWith(system.adminUrl))).toBe(true);
    } finally {
      await context.close();
    }
  }, 30000);

  it("shows a client's life, its name escaped", async () => {
    const { page, context, violations } = await open(
      `/admin/audit/clients/${client.client_id}`,
      'audit-client-timeline.png',
    );
    try {
      expect(await page.locator('h1').textContent()).toBe(`Client Timeline <svc> (${client.client_id})`);
      const whats = await page.locator('ol > li .what').allTextContents();
      expect(whats).toEqual(['Client registered', 'Access token issued', 'Access token revoked']);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  }, 30000);

  it('is for the admin only', async () => {
    const res = await fetch(`${system.adminUrl}/admin/audit/tokens/${jti}`);
    expect(res.status).toBe(401);
  });
});
