import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { installViews } from '../http/views.js';
import { type PageBrand, pageBrand, pageCsp, type PageResult, pageView } from './pages.js';

let fastify: FastifyInstance;
beforeAll(async () => {
  fastify = Fastify();
  installViews(fastify);
  await fastify.ready();
});
afterAll(() => fastify.close());

/** The page as the gateway renders it: its view model through @fastify/view and the templates. */
function render(result: PageResult, b: PageBrand): Promise<string> {
  const { template, data } = pageView(result, b);
  return fastify.view(template, data);
}

const brand = pageBrand({
  brandProductName: 'Example',
  brandLogoUrl: undefined,
  brandPrimaryColor: '#1f6feb',
});

const hostile = `<script>alert(1)</script>"'&`;

describe('login, consent, account and error pages (checklist UI-01, UI-03, UI-17, AUTHZ-14)', () => {
  it('every reflected value is escaped', async () => {
    const pages = [
      await render(
        {
          kind: 'login',
          status: 200,
          tx: hostile,
          csrf: hostile,
          clientName: hostile,
          username: hostile,
          message: hostile,
        },
        brand,
      ),
      await render(
        {
          kind: 'consent',
          tx: hostile,
          csrf: hostile,
          username: hostile,
          clientId: hostile,
          clientName: hostile,
          clientUri: 'javascript:alert(1)',
          scopes: [{ scope: hostile, description: hostile }],
          redirectOrigin: 'https://c.test',
        },
        brand,
      ),
      await render(
        {
          kind: 'account',
          username: hostile,
          csrf: hostile,
          consents: [{ clientId: hostile, clientName: hostile, scope: [hostile], grantedAt: hostile }],
          sessions: [
            {
              sid: hostile,
              authTime: hostile,
              amr: [hostile],
              acr: hostile,
              userAgent: { browser: hostile, os: hostile },
              startedAt: hostile,
              lastUsedAt: hostile,
              expiresAt: hostile,
              clients: [hostile],
              current: true,
            },
          ],
        },
        brand,
      ),
      (await render(
        {
          kind: 'logout-confirm',
          csrf: hostile,
          username: hostile,
          continueWith: { clientId: hostile, postLogoutRedirectUri: hostile, state: hostile },
        },
        brand,
      )) + (await render({ kind: 'logged-out', lang: hostile }, brand)),
      await render({ kind: 'error-page', status: 400, error: hostile, description: hostile }, brand),
    ];
    for (const html of pages) {
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
      expect(html).not.toMatch(/href="javascript:/i);
      expect(html).not.toMatch(/\son[a-z]+=/i);
    }
  });

  it('the login form has labelled username and password inputs and a submit button', async () => {
    const html = await render({ kind: 'login', status: 200, tx: 't', csrf: 'c' }, brand);
    expect(html).toMatch(
      /<label for="username">[^<]+<\/label>\s*<input type="text" id="username" name="username"/,
    );
    expect(html).toMatch(
      /<label for="password">[^<]+<\/label>\s*<input type="password" id="password" name="password"/,
    );
    expect(html).toMatch(/<button type="submit"[^>]*>Sign in<\/button>/);
    expect(html).toContain('name="viewport"');
  });

  it('the consent page has Allow and Deny, and links the client_uri only when it is http(s)', async () => {
    const html = await render(
      {
        kind: 'consent',
        tx: 't',
        csrf: 'c',
        username: 'alice',
        clientId: 'c1',
        clientName: 'Photos',
        clientUri: 'https://photos.test/',
        scopes: [{ scope: 'read', description: 'Read your data' }],
        redirectOrigin: 'https://photos.test',
      },
      brand,
    );
    expect(html).toMatch(/>Allow<\/button>/);
    expect(html).toMatch(/>Deny<\/button>/);
    expect(html).toContain('<a href="https://photos.test/" rel="noopener noreferrer">');
    expect(html).toContain('Read your data');
  });

  it('UI-01 / UI-03: the CSP forbids framing and scripts; forms may reach us and the client origin only', async () => {
    const csp = pageCsp(brand, ['https://c1.test', "'none'", 'https://x.test; script-src *']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self' https://c1.test;");
    expect(csp).not.toContain('script-src *');
  });
});

describe('branding of the pages', () => {
  const pages = async (b: ReturnType<typeof pageBrand>) => [
    await render({ kind: 'login', status: 200, tx: 't', csrf: 'c' }, b),
    await render(
      {
        kind: 'consent',
        tx: 't',
        csrf: 'c',
        username: 'u',
        clientId: 'id',
        clientName: 'App',
        scopes: [],
        redirectOrigin: 'https://c.test',
      },
      b,
    ),
    await render({ kind: 'account', username: 'u', csrf: 'c', consents: [] }, b),
    await render({ kind: 'error-page', status: 400, error: 'invalid_request', description: 'd' }, b),
  ];

  it('every page names the product, escaped, and uses the colour under the hash the CSP allows', async () => {
    const b = pageBrand({ brandProductName: hostile, brandLogoUrl: undefined, brandPrimaryColor: '#aa3300' });
    for (const html of await pages(b)) {
      expect(html).toContain('<span>&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</span>');
      expect(html).not.toContain('<script');
      const style = /<style>([^<]*)<\/style>/.exec(html)![1]!;
      expect(style).toContain('button.primary{background:#aa3300');
      expect(pageCsp(b)).toContain(
        `style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`,
      );
    }
    expect(pageCsp(b)).toContain("img-src 'self';");
  });

  it('an https logo is shown and allowed from its origin alone; a data: logo allows data: images', async () => {
    const https = pageBrand({
      brandProductName: 'Acme',
      brandLogoUrl: 'https://cdn.acme.test/logo.png?v="2"',
      brandPrimaryColor: '#1f6feb',
    });
    for (const html of await pages(https))
      expect(html).toContain('<img src="https://cdn.acme.test/logo.png?v=&quot;2&quot;" alt="">');
    expect(pageCsp(https)).toContain("img-src 'self' https://cdn.acme.test;");
    const data = pageBrand({
      brandProductName: 'Acme',
      brandLogoUrl: 'data:image/png;base64,iVBORw0KGgo=',
      brandPrimaryColor: '#1f6feb',
    });
    expect(pageCsp(data)).toContain("img-src 'self' data:;");
  });
});

describe('sessions, logout and the page language (issue 22)', () => {
  it('ui_locales reaches html lang only as a well-formed BCP 47 tag, else en', async () => {
    const page = async (lang?: string) =>
      await render({ kind: 'login', status: 200, tx: 't', csrf: 'c', ...(lang ? { lang } : {}) }, brand);
    expect(await page('en-GB')).toContain('<html lang="en-GB">');
    expect(await page('"><x')).toContain('<html lang="en">');
    expect(await page()).toContain('<html lang="en">');
  });

  it('the account page lists each session with its own sign-out form and one for all', async () => {
    const session = (sid: string, current: boolean) => ({
      sid,
      authTime: '2030-01-01T00:00:00Z',
      amr: ['pwd'],
      acr: '1',
      userAgent: { browser: 'Firefox', os: 'Linux' },
      startedAt: '2030-01-01T00:00:00.000Z',
      lastUsedAt: '2030-01-01T01:00:00.000Z',
      expiresAt: '2030-01-01T02:00:00.000Z',
      clients: [],
      current,
    });
    const html = await render(
      {
        kind: 'account',
        username: 'u',
        csrf: 'c',
        consents: [],
        sessions: [session('s1', true), session('s2', false)],
      },
      brand,
    );
    expect(html.match(/action="\/account\/sessions\/end"/g)).toHaveLength(3);
    expect(html).toContain('<input type="hidden" name="sid" value="s2">');
    expect(html).toContain('<input type="hidden" name="all" value="1">');
    expect(html.match(/this browser/g)).toHaveLength(1);
    expect(html).toContain('signed in 2030-01-01 00:00 UTC, last used 2030-01-01 01:00 UTC');
  });

  it('the logout confirmation carries a registered redirect and its state as hidden fields, only when given', async () => {
    const bare = await render({ kind: 'logout-confirm', csrf: 'c', username: 'u' }, brand);
    expect(bare).not.toContain('post_logout_redirect_uri');
    expect(bare).not.toContain('name="state"');
    const html = await render(
      {
        kind: 'logout-confirm',
        csrf: 'c',
        username: 'u',
        continueWith: { clientId: 'C1', postLogoutRedirectUri: 'https://rp.test/bye', state: 's&1' },
      },
      brand,
    );
    expect(html).toContain('<input type="hidden" name="client_id" value="C1">');
    expect(html).toContain(
      '<input type="hidden" name="post_logout_redirect_uri" value="https://rp.test/bye">',
    );
    expect(html).toContain('<input type="hidden" name="state" value="s&amp;1">');
  });
});
