import { accountPage, consentPage, errorPage, loginPage, pageCsp, setCookie } from './pages.js';

const hostile = `<script>alert(1)</script>"'&`;

describe('login, consent, account and error pages (checklist UI-01, UI-03, UI-11, UI-17, AUTHZ-14)', () => {
  it('every reflected value is escaped', () => {
    const pages = [
      loginPage({
        kind: 'login',
        status: 200,
        tx: hostile,
        csrf: hostile,
        clientName: hostile,
        username: hostile,
        message: hostile,
      }),
      consentPage({
        kind: 'consent',
        tx: hostile,
        csrf: hostile,
        username: hostile,
        clientId: hostile,
        clientName: hostile,
        clientUri: 'javascript:alert(1)',
        scopes: [{ scope: hostile, description: hostile }],
        redirectOrigin: 'https://c.test',
      }),
      accountPage({
        kind: 'account',
        username: hostile,
        csrf: hostile,
        consents: [{ clientId: hostile, clientName: hostile, scope: [hostile], grantedAt: hostile }],
      }),
      errorPage({ kind: 'error-page', status: 400, error: hostile, description: hostile }),
    ];
    for (const html of pages) {
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
      expect(html).not.toMatch(/href="javascript:/i);
      expect(html).not.toMatch(/\son[a-z]+=/i);
    }
  });

  it('the login form has labelled username and password inputs and a submit button', () => {
    const html = loginPage({ kind: 'login', status: 200, tx: 't', csrf: 'c' });
    expect(html).toMatch(
      /<label for="username">[^<]+<\/label>\s*<input type="text" id="username" name="username"/,
    );
    expect(html).toMatch(
      /<label for="password">[^<]+<\/label>\s*<input type="password" id="password" name="password"/,
    );
    expect(html).toMatch(/<button type="submit"[^>]*>Sign in<\/button>/);
    expect(html).toContain('name="viewport"');
  });

  it('the consent page has Allow and Deny, and links the client_uri only when it is http(s)', () => {
    const html = consentPage({
      kind: 'consent',
      tx: 't',
      csrf: 'c',
      username: 'alice',
      clientId: 'c1',
      clientName: 'Photos',
      clientUri: 'https://photos.test/',
      scopes: [{ scope: 'read', description: 'Read your data' }],
      redirectOrigin: 'https://photos.test',
    });
    expect(html).toMatch(/>Allow<\/button>/);
    expect(html).toMatch(/>Deny<\/button>/);
    expect(html).toContain('<a href="https://photos.test/" rel="noopener noreferrer">');
    expect(html).toContain('Read your data');
  });

  it('UI-01 / UI-03: the CSP forbids framing and scripts; forms may reach us and the client origin only', () => {
    const csp = pageCsp(['https://c1.test', "'none'", 'https://x.test; script-src *']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self' https://c1.test;");
    expect(csp).not.toContain('script-src *');
  });

  it('UI-11: the session cookie is HttpOnly, SameSite=Lax, host-only; on https __Host- and Secure', () => {
    expect(setCookie('session', 'v', 60, false)).toBe(
      'authz_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax',
    );
    expect(setCookie('session', 'v', 60, true)).toBe(
      '__Host-authz_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure',
    );
  });
});
