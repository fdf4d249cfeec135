import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Checklist cases the other suites exercise without naming them, or not at all, on the endpoints
 * that exist today (issue 10: every case of the checklist as a named test). Expected answers are
 * the checklist's, with section 19's decisions.
 */
describe('Remaining checklist cases: token request format, metadata, JWKS, registration', () => {
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };
  let postClient: { client_id: string; client_secret: string };

  beforeAll(async () => {
    system = await startSystem();
    client = await system.createClient(['--name', 's1', '--grant', 'client_credentials', '--scope', 'read']);
    postClient = await system.createClient([
      '--name',
      'c2',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
      '--auth-method',
      'client_secret_post',
    ]);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  const auth = () => ({ authorization: basic(client.client_id, client.client_secret) });
  const token = (init: RequestInit, query = '') => fetch(`${system.baseUrl}/token${query}`, init);
  const form = 'application/x-www-form-urlencoded';
  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

  it('TREQ-01: GET /token with valid Basic is 405 with Allow: POST, and no token', async () => {
    const res = await token({ method: 'GET', headers: auth() }, '?grant_type=client_credentials&scope=read');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.text()).not.toMatch(/access_token/);
  });

  it('TREQ-02: PUT, DELETE and PATCH on /token are 405 with Allow: POST', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await token({
        method,
        headers: { ...auth(), 'content-type': form },
        body: 'grant_type=client_credentials',
      });
      expect([method, res.status, res.headers.get('allow')]).toEqual([method, 405, 'POST']);
    }
  });

  it('TREQ-03: a JSON body is 400 invalid_request', async () => {
    const res = await token({
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', scope: 'read' }),
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe('invalid_request');
  });

  it('TREQ-04: no Content-Type, text/plain and multipart/form-data are 400 invalid_request', async () => {
    const body = 'grant_type=client_credentials&scope=read';
    const cases: Record<string, string>[] = [
      {},
      { 'content-type': 'text/plain' },
      { 'content-type': 'multipart/form-data; boundary=x' },
    ];
    for (const headers of cases) {
      const res = await token({ method: 'POST', headers: { ...auth(), ...headers }, body });
      expect([headers['content-type'] ?? 'none', res.status, await errorOf(res)]).toEqual([
        headers['content-type'] ?? 'none',
        400,
        'invalid_request',
      ]);
    }
  });

  it('TREQ-05: a form content type with charset, or in capitals, is accepted', async () => {
    for (const type of [`${form}; charset=UTF-8`, form.toUpperCase()]) {
      const res = await token({
        method: 'POST',
        headers: { ...auth(), 'content-type': type },
        body: 'grant_type=client_credentials&scope=read',
      });
      expect([type, res.status]).toEqual([type, 200]);
    }
  });

  it('TREQ-06: an empty body is 400 invalid_request', async () => {
    const res = await token({ method: 'POST', headers: { ...auth(), 'content-type': form }, body: '' });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe('invalid_request');
  });

  it('TREQ-08: grant_type=password is 400 unsupported_grant_type', async () => {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'password', username: 'alice', password: 'secret' },
      auth(),
    );
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe('unsupported_grant_type');
  });

  it('TREQ-16: every character of an issued access token is a VSCHAR (%x20-7E)', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await postForm(
        `${system.baseUrl}/token`,
        { grant_type: 'client_credentials', scope: 'read' },
        auth(),
      );
      const body = (await res.json()) as { access_token: string; refresh_token?: string };
      expect(body.access_token).toMatch(/^[\x20-\x7e]+$/);
      if (body.refresh_token !== undefined) expect(body.refresh_token).toMatch(/^[\x20-\x7e]+$/);
    }
  });

  it('CC-06: client credentials without client authentication is 401 invalid_client', async () => {
    const res = await postForm(`${system.baseUrl}/token`, {
      grant_type: 'client_credentials',
      scope: 'read',
    });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe('invalid_client');
  });

  it('CAUTH-11: Basic with an empty password is 401 invalid_client (or 400 invalid_request), never a token', async () => {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      { authorization: `Basic ${Buffer.from(`${client.client_id}:`).toString('base64')}` },
    );
    expect([
      [400, 'invalid_request'],
      [401, 'invalid_client'],
    ]).toContainEqual([res.status, await errorOf(res)]);
  });

  it('CAUTH-14: client credentials in the URL are refused, never a token', async () => {
    const query = `?client_id=${encodeURIComponent(postClient.client_id)}&client_secret=${encodeURIComponent(postClient.client_secret)}`;
    const res = await token(
      { method: 'POST', headers: { 'content-type': form }, body: 'grant_type=client_credentials&scope=read' },
      query,
    );
    expect([400, 401]).toContain(res.status);
    expect(['invalid_request', 'invalid_client']).toContain(await errorOf(res));
    // The same credentials in the body work (client_secret_post), so the refusal is about the URL.
    const ok = await postForm(`${system.baseUrl}/token`, {
      grant_type: 'client_credentials',
      scope: 'read',
      client_id: postClient.client_id,
      client_secret: postClient.client_secret,
    });
    expect(ok.status).toBe(200);
  });

  it('META-01/META-07: the metadata is 200 JSON, cacheable, and holds no secret', async () => {
    const res = await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    const text = await res.text();
    for (const secret of [
      system.adminToken,
      ...[system.env.SECRET_HASH_KEYS!, system.env.COOKIE_SEALING_KEYS!, system.env.CSRF_KEYS!].map(
        (setting) => setting.split(':')[1]!,
      ),
      system.env.KEY_ENCRYPTION_KEY!,
      client.client_secret,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect((JSON.parse(text) as { issuer: string }).issuer).toBe(system.issuer);
  });

  it('META-05: what the metadata advertises works, and what it does not is refused', async () => {
    const meta = (await (await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`)).json()) as {
      grant_types_supported: string[];
      token_endpoint_auth_methods_supported: string[];
    };
    expect(meta.grant_types_supported).toContain('client_credentials');
    expect(meta.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    const basicOk = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      auth(),
    );
    expect(basicOk.status).toBe(200);
    for (const grant of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code'].filter(
      (g) => !meta.grant_types_supported.includes(g),
    )) {
      const res = await postForm(`${system.baseUrl}/token`, { grant_type: grant, scope: 'read' }, auth());
      expect([grant, res.status, await errorOf(res)]).toEqual([grant, 400, 'unsupported_grant_type']);
    }
  });

  it('META-06: POST and PUT to the metadata URL are 405', async () => {
    for (const method of ['POST', 'PUT']) {
      const res = await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`, { method });
      expect([method, res.status]).toEqual([method, 405]);
    }
    const withOrigin = await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`, {
      headers: { origin: 'https://evil.test' },
    });
    expect(withOrigin.status).toBe(200);
  });

  it('JWKS-01/JWKS-07: the JWK Set is 200 JSON with public EC P-256 (or stronger) or RSA ≥ 2048 keys', async () => {
    const meta = (await (await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`)).json()) as {
      jwks_uri: string;
    };
    const res = await fetch(meta.jwks_uri);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/(jwk-set\+)?json/);
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.d).toBeUndefined();
      if (key.kty === 'EC') expect(['P-256', 'P-384', 'P-521']).toContain(key.crv);
      else if (key.kty === 'RSA')
        expect(Buffer.from(key.n!, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
      else throw new Error(`unexpected key type ${key.kty}`);
    }
  });

  describe('redirect URIs at registration (admin API)', () => {
    const register = (redirectUris: string[]) =>
      fetch(`${system.adminUrl}/admin/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${system.adminToken}` },
        body: JSON.stringify({
          client_name: 'web',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          scope: 'read',
          redirect_uris: redirectUris,
        }),
      });

    const refused = async (uri: string) => {
      const res = await register([uri]);
      return [uri, res.status, await errorOf(res)];
    };

    it('REG-04: a relative redirect URI, or one with no scheme, is 400 invalid_redirect_uri', async () => {
      for (const uri of ['/cb', 'cb', '//c.test/cb', 'c.test/cb']) {
        expect(await refused(uri)).toEqual([uri, 400, 'invalid_redirect_uri']);
      }
    });

    it('REG-05: http on a non-loopback host is 400 invalid_redirect_uri', async () => {
      for (const uri of ['http://c.test/cb', 'http://10.0.0.1/cb']) {
        expect(await refused(uri)).toEqual([uri, 400, 'invalid_redirect_uri']);
      }
    });

    it('REG-06: javascript:, data:, file: and vbscript: are 400 invalid_redirect_uri', async () => {
      for (const uri of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'vbscript:x']) {
        expect(await refused(uri)).toEqual([uri, 400, 'invalid_redirect_uri']);
      }
    });

    it('REG-08: wildcard patterns are refused or kept only as literal strings', async () => {
      for (const uri of ['https://*.c.test/cb', 'https://c.test/*']) {
        const res = await register([uri]);
        if (res.status === 201) {
          expect(((await res.json()) as { redirect_uris: string[] }).redirect_uris).toEqual([uri]);
        } else {
          expect([uri, res.status, await errorOf(res)]).toEqual([uri, 400, 'invalid_redirect_uri']);
        }
      }
    });
  });
});
