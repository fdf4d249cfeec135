import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { installViews } from '#lib/http-edge';
import type { Session } from './choreography.js';
import { EXAMPLE_VIEWS_DIR, pageView } from './page.js';
import { recordingFetch, type Exchange } from './recorder.js';

let fastify: FastifyInstance;
beforeAll(async () => {
  fastify = Fastify();
  installViews(fastify, EXAMPLE_VIEWS_DIR);
  await fastify.ready();
});
afterAll(() => fastify.close());

/** The page as the Example App renders it: its view model through @fastify/view and the templates. */
function page(session: Session, info: Parameters<typeof pageView>[1]): Promise<string> {
  const { template, data } = pageView(session, info);
  return fastify.view(template, data);
}

describe('Example App: what the learner is shown', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('records request and response, masking the client secret of a Basic header', async () => {
    globalThis.fetch = (async () =>
      new Response('{"access_token":"x"}', {
        status: 200,
        headers: { 'content-type': 'application/json', 'set-cookie': 'a=b' },
      })) as typeof fetch;
    const log: Exchange[] = [];
    const basic = `Basic ${Buffer.from('example-app:s3cret').toString('base64')}`;
    const res = await recordingFetch(log)('https://as/token', {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(await res.json()).toEqual({ access_token: 'x' }); // the caller still reads the body
    const [x] = log;
    expect(x!.request.body).toBe('grant_type=client_credentials');
    expect(JSON.stringify(x)).not.toContain('s3cret');
    expect(JSON.stringify(x)).not.toContain(basic);
    expect(x!.request.headers).toContainEqual([
      'authorization',
      'Basic base64(example-app:••••••••)  (client_secret_basic, RFC 6749 §2.3.1)',
    ]);
    // Only the headers that matter to the protocol are shown.
    expect('status' in x!.response && x!.response.headers.map(([k]) => k)).toEqual(['content-type']);
  });

  it('records a failed request as such', async () => {
    globalThis.fetch = (async () => {
      throw new Error('ECONNREFUSED');
    }) as typeof fetch;
    const log: Exchange[] = [];
    await expect(recordingFetch(log)('https://rs/api', {})).rejects.toThrow('ECONNREFUSED');
    expect(log[0]!.response).toEqual({ error: 'ECONNREFUSED' });
  });

  it('escapes everything it renders (a hostile server response cannot inject markup)', async () => {
    const html = await page(
      {
        id: 's',
        steps: [
          {
            title: 'Resource server',
            explain: 'x',
            exchanges: [
              {
                request: { method: 'GET', url: 'https://rs/<script>', headers: [], body: null },
                response: { status: 200, headers: [], body: '{"email":"<img src=x onerror=alert(1)>"}' },
              },
            ],
            outcome: '<b>bold</b>',
            ok: true,
          },
        ],
      },
      { issuer: 'https://as', resourceServer: 'https://rs', clientId: '"><script>' },
    );
    expect(html).not.toMatch(/<script>|<img|<b>bold/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('id="last-outcome"');
  });

  it('shows a JWT decoded (header and claims) and a refresh token as opaque', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${b64({ sub: 'u1', scope: 'email', exp: 2000000000 })}.sig`;
    const html = await page(
      {
        id: 's',
        steps: [],
        tokens: { accessToken: jwt, refreshToken: 'grant.secret', scope: 'email', expiresIn: 600 },
      },
      { issuer: 'https://as', resourceServer: 'https://rs', clientId: 'example-app' },
    );
    expect(html).toContain('&quot;typ&quot;: &quot;at+jwt&quot;');
    expect(html).toContain('&quot;sub&quot;: &quot;u1&quot;');
    expect(html).toContain('exp: 2033-05-18T03:33:20.000Z');
    expect(html).toContain('opaque: only the authorization server can read it');
  });

  it('shows the ID token claims escaped, and Sign out only while an ID token is held', async () => {
    const info = { issuer: 'https://as', resourceServer: 'https://rs', clientId: 'example-app' };
    const claims = { iss: 'https://as', sub: 'u1', aud: 'example-app', iat: 1, exp: 2, name: '<b>bold</b>' };
    const signedIn = await page({ id: 's', steps: [], idToken: { token: 'a.b.c', claims } }, info);
    expect(signedIn).toContain('<pre id="id-token-claims">');
    expect(signedIn).toContain('&quot;name&quot;: &quot;&lt;b&gt;bold&lt;/b&gt;&quot;');
    expect(signedIn).not.toContain('<b>bold</b>');
    expect(signedIn).toContain(
      '<form method="post" action="/sign-out"><button type="submit">Sign out</button>',
    );
    const signedOut = await page({ id: 's', steps: [] }, info);
    expect(signedOut).not.toContain('id="id-token-claims"');
    expect(signedOut).toContain('<form method="post" action="/sign-out"><button type="submit" disabled>');
  });
  it('writes a claim holding <script> as text, in the ID token and in every decoded token', async () => {
    const script = '<script>alert(1)</script>';
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = (claims: object) => `${b64({ alg: 'ES256', kid: script })}.${b64(claims)}.sig`;
    const html = await page(
      {
        id: 's',
        steps: [],
        tokens: {
          accessToken: jwt({ sub: script, scope: 'email' }),
          refreshToken: `grant.${script}`,
          scope: script,
          expiresIn: 600,
        },
        idToken: {
          token: 'a.b.c',
          claims: { iss: 'https://as', sub: 'u1', aud: 'example-app', iat: 1, exp: 2, name: script },
        },
        clientCredentialsToken: jwt({ client_id: script }),
      },
      { issuer: 'https://as', resourceServer: 'https://rs', clientId: 'example-app' },
    );
    expect(html).not.toContain('<script');
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;';
    expect(html).toContain(`&quot;name&quot;: &quot;${escaped}&quot;`); // ID token
    expect(html).toContain(`&quot;sub&quot;: &quot;${escaped}&quot;`); // access token
    expect(html).toContain(`&quot;kid&quot;: &quot;${escaped}&quot;`); // a JWT header
    expect(html).toContain(`&quot;client_id&quot;: &quot;${escaped}&quot;`); // client credentials
    expect(html).toContain(`<pre>grant.${escaped}</pre>`); // the opaque refresh token
    expect(html).toContain(`(scope "${escaped}")`);
  });

  it('leaves no value unescaped in its templates: raw output is only another template', () => {
    for (const file of readdirSync(EXAMPLE_VIEWS_DIR)) {
      const raw = readFileSync(join(EXAMPLE_VIEWS_DIR, file), 'utf8').match(/<%~[^%]*%>/g) ?? [];
      for (const tag of raw) expect(tag).toMatch(/^<%~ include\('token', [\w.]+\) %>$/);
    }
  });
});

describe('the Example App page on a phone', () => {
  it('declares a viewport, and its two-column grids become one column on a narrow screen', async () => {
    const html = await page(
      { id: 's', steps: [] },
      { issuer: 'https://as', resourceServer: 'https://rs', clientId: 'c' },
    );
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toMatch(/@media \(max-width:40rem\)\{\.x,\.tokens\{grid-template-columns:1fr\}\}/);
  });
});
