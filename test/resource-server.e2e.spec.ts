import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { basic, freePort, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * apps/resource-server, really started, against the real authorization server (client credentials
 * tokens) and, for the claims only a signer can forge, against a stand-in issuer whose key the test
 * holds. Every refusal is checked for the RFC 6750 §3 status, error code and challenge.
 */
describe('resource server: bearer tokens (RFC 6750, RFC 9068 §4)', () => {
  let system: RunningSystem;
  let rs: string;
  let client: { client_id: string; client_secret: string };

  const tokenFor = async (
    c: { client_id: string; client_secret: string },
    scope: string,
  ): Promise<string> => {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope },
      { authorization: basic(c.client_id, c.client_secret) },
    );
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const call = (path: string, authorization?: string, base = rs) =>
    fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });
  const challenge = (res: Response) => res.headers.get('www-authenticate') ?? '';

  beforeAll(async () => {
    system = await startSystem({ resourceServer: true });
    rs = system.resourceServerUrl;
    client = await system.createClient([
      '--name',
      'api caller',
      '--grant',
      'client_credentials',
      '--scope',
      'email profile',
      '--audience',
      rs,
    ]);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  it('a valid token of its audience is accepted (/api/whoami shows what was verified)', async () => {
    const token = await tokenFor(client, 'email profile');
    const res = await call('/api/whoami', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      sub: client.client_id,
      client_id: client.client_id,
      resource_owner: false,
      scope: 'email profile',
      aud: rs,
    });
  });

  it('RS-01: no credentials: 401 with a bare Bearer challenge, no error code (§3.1)', async () => {
    const res = await call('/api/me/email');
    expect(res.status).toBe(401);
    expect(challenge(res)).toBe(`Bearer realm="${rs}"`);
  });

  it('RS-02: a token that is not a JWT: 401 invalid_token', async () => {
    const res = await call('/api/me/email', 'Bearer not-a-token');
    expect(res.status).toBe(401);
    expect(challenge(res)).toMatch(
      /^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/,
    );
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('RS-03: a token of this issuer for another audience: 401 invalid_token', async () => {
    const other = await system.createClient([
      '--name',
      'other api',
      '--grant',
      'client_credentials',
      '--scope',
      'email',
    ]);
    const res = await call('/api/whoami', `Bearer ${await tokenFor(other, 'email')}`);
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain('error="invalid_token"');
    expect(challenge(res)).toContain('(aud)');
  });

  it('RS-04: alg none: 401 invalid_token', async () => {
    const valid = await tokenFor(client, 'email');
    const [, payload] = valid.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    const res = await call('/api/whoami', `Bearer ${header}.${payload}.`);
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain('error="invalid_token"');
  });

  it('RS-05: an unknown kid (signed by a key the issuer never published): 401 invalid_token', async () => {
    const valid = await tokenFor(client, 'email');
    const claims = JSON.parse(Buffer.from(valid.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'unknown-kid' })
      .sign(privateKey);
    const res = await call('/api/whoami', `Bearer ${forged}`);
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain('error="invalid_token"');
  });

  it('RS-06: missing scope: 403 insufficient_scope naming the scope needed', async () => {
    const res = await call('/api/me/email', `Bearer ${await tokenFor(client, 'profile')}`);
    expect(res.status).toBe(403);
    expect(challenge(res)).toContain('error="insufficient_scope"');
    expect(challenge(res)).toContain('scope="email"');
    expect(await res.json()).toMatchObject({ error: 'insufficient_scope', scope: 'email' });
  });

  it.each([['Bearer'], ['Bearer a b'], ['Bearer "x"']])(
    'RS-07: malformed Authorization header %j: 400 invalid_request',
    async (header) => {
      const res = await call('/api/me/email', header);
      expect(res.status).toBe(400);
      expect(challenge(res)).toContain('error="invalid_request"');
    },
  );

  it('RS-08: a valid token in the query string is refused: 400 invalid_request', async () => {
    const token = await tokenFor(client, 'email profile');
    const res = await fetch(`${rs}/api/whoami?access_token=${token}`);
    expect(res.status).toBe(400);
    expect(challenge(res)).toContain('error="invalid_request"');
    expect((await res.json()) as { error_description: string }).toMatchObject({
      error_description: expect.stringContaining('query string'),
    });
  });

  it('RS-09: /api/me/email with a client-credentials token: 404 no_resource_owner (no user behind it)', async () => {
    const res = await call('/api/me/email', `Bearer ${await tokenFor(client, 'email')}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'no_resource_owner' });
  });

  it('RS-10: a revoked token: the revocation-sensitive endpoint refuses it (introspection); local-only endpoints accept it until exp', async () => {
    const token = await tokenFor(client, 'email');
    expect((await call('/api/me/email', `Bearer ${token}`)).status).toBe(404); // past the guard
    const revoke = await postForm(
      `${system.baseUrl}/revoke`,
      { token },
      { authorization: basic(client.client_id, client.client_secret) },
    );
    expect(revoke.status).toBe(200);
    const res = await call('/api/me/email', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(challenge(res)).toContain('error="invalid_token"');
    expect(challenge(res)).toContain('no longer active');
    expect((await call('/api/whoami', `Bearer ${token}`)).status).toBe(200);
  });

  it('answers Cache-Control: no-store and never a stack trace', async () => {
    const res = await call('/api/me/email', 'Bearer a b');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).not.toMatch(/at .*\.js:\d+/);
  });

  /** A stand-in issuer whose signing key the test holds: claims only a signer could get wrong. */
  describe('against a stand-in issuer (forged claims)', () => {
    let issuerServer: Server;
    let issuer: string;
    let rs2: string;
    let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
    let jwksFetches = 0;

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256');
      privateKey = pair.privateKey;
      const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      const port = await freePort();
      issuer = `http://127.0.0.1:${port}`;
      issuerServer = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/.well-known/oauth-authorization-server') {
          res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
        } else if (req.url === '/jwks') {
          jwksFetches++;
          res.setHeader('cache-control', 'max-age=300');
          res.end(JSON.stringify({ keys: [jwk] }));
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
      await new Promise<void>((ok) => issuerServer.listen(port, '127.0.0.1', ok));
      const rsPort = await freePort();
      rs2 = `http://127.0.0.1:${rsPort}`;
      await system.launch('resource-server', 'resource-server-2', {
        ISSUER: issuer,
        RESOURCE_SERVER_PORT: String(rsPort),
        RESOURCE_SERVER_AUDIENCE: rs2,
      });
      await system.waitHttp(`${rs2}/health`);
    }, 60000);

    afterAll(async () => {
      await new Promise((ok) => issuerServer?.close(ok));
    });

    const sign = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer,
        aud: rs2,
        sub: 'u1',
        client_id: 'c1',
        iat: now,
        exp: now + 300,
        jti: `j${Math.random()}`,
        scope: 'email profile',
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header })
        .sign(privateKey);
    };

    it('control: a token right in every way is accepted', async () => {
      const res = await call('/api/whoami', `Bearer ${await sign()}`, rs2);
      expect(res.status).toBe(200);
    });

    it.each([
      ['RS-11: expired beyond the leeway', { exp: Math.floor(Date.now() / 1000) - 120 }, {}, 'expired'],
      ['RS-12: another iss', { iss: 'http://127.0.0.1:1' }, {}, '(iss)'],
      ['RS-13: typ JWT instead of at+jwt', {}, { typ: 'JWT' }, 'invalid'],
      ['RS-14: another aud', { aud: 'http://127.0.0.1:2' }, {}, '(aud)'],
    ])('%s: 401 invalid_token', async (_name, claims, header, words) => {
      const res = await call('/api/whoami', `Bearer ${await sign(claims, header)}`, rs2);
      expect(res.status).toBe(401);
      expect(challenge(res)).toContain('error="invalid_token"');
      expect(challenge(res)).toContain(words);
    });

    it('RS-15: an expired token within the leeway (10 s late) is still accepted', async () => {
      const res = await call(
        '/api/whoami',
        `Bearer ${await sign({ exp: Math.floor(Date.now() / 1000) - 10 })}`,
        rs2,
      );
      expect(res.status).toBe(200);
    });

    it('RS-16: the JWKS is cached across requests', async () => {
      const before = jwksFetches;
      for (let i = 0; i < 3; i++) await call('/api/whoami', `Bearer ${await sign()}`, rs2);
      expect(jwksFetches).toBe(before);
    });

    it('RS-17: revocation-sensitive endpoint without introspection credentials fails closed (503)', async () => {
      const res = await call('/api/me/email', `Bearer ${await sign()}`, rs2);
      expect(res.status).toBe(503);
    });
  });
});
