import { decodeJwt } from 'jose';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

type Creds = { client_id: string; client_secret: string };

/**
 * Checklist section 10 (INT), RFC 7662, for access tokens, against the five real processes.
 * Access tokens live ACCESS_TOKEN_TTL_SECONDS=10 here so that INT-06 sees one expire.
 * Refresh tokens (INT-08, INT-09) and tokens of revoked grants: test/grant-audit.e2e.spec.ts.
 * INT-15 (decision 13: introspection is not limited) is there too.
 */
describe('token introspection (RFC 7662, checklist INT)', () => {
  let system: RunningSystem;
  let c1: Creds;
  let c2: Creds;
  let r1: Creds;
  let p1: { client_id: string };
  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;
  const as = (c: Creds) => ({ authorization: basic(c.client_id, c.client_secret) });

  beforeAll(async () => {
    system = await startSystem({ env: { ACCESS_TOKEN_TTL_SECONDS: '10' } });
    r1 = await system.createClient(['--name', 'R1', '--grant', 'client_credentials', '--scope', 'read']);
    c1 = await system.createClient([
      '--name',
      'C1',
      '--grant',
      'client_credentials',
      '--scope',
      'read write',
      '--audience',
      r1.client_id,
    ]);
    c2 = await system.createClient([
      '--name',
      'C2',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
      '--auth-method',
      'client_secret_post',
    ]);
    p1 = await system.createClient([
      '--name',
      'P1',
      '--grant',
      'authorization_code',
      '--scope',
      'read',
      '--auth-method',
      'none',
      '--redirect-uri',
      'https://p1.test/cb',
    ]);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  async function issue(client: Creds = c1, scope = 'read write'): Promise<string> {
    const res = await postForm(url('/token'), { grant_type: 'client_credentials', scope }, as(client));
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  async function expectInactive(res: Response) {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe('{"active":false}');
  }

  async function expectError(res: Response, status: number, error: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe(error);
    expect(body).not.toHaveProperty('active');
    return body;
  }

  it('INT-01: no client authentication is 401 invalid_client, with no token information', async () => {
    const token = await issue();
    await expectError(await postForm(url('/introspect'), { token }), 401, 'invalid_client');
  });

  it('INT-02: a wrong secret is 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const token = await issue();
    const res = await postForm(
      url('/introspect'),
      { token },
      { authorization: basic(c1.client_id, 'wrong') },
    );
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    await expectError(res, 401, 'invalid_client');
  });

  it('INT-03/INT-04: the owning client sees an active token whose members match the JWT, with JSON and no-store', async () => {
    const token = await issue();
    const claims = decodeJwt(token);
    const res = await postForm(url('/introspect'), { token }, as(c1));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      active: true,
      scope: claims.scope,
      client_id: c1.client_id,
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.iat,
      sub: claims.sub,
      aud: claims.aud,
      iss: system.issuer,
      jti: claims.jti,
    });
  });

  it('INT-05: unknown, garbage and tampered tokens are exactly {"active":false}', async () => {
    const token = await issue();
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(token), scope: 'admin' })).toString(
      'base64url',
    );
    for (const candidate of [
      'not-a-token',
      'a.b.c',
      tampered,
      `${h}.${forgedPayload}.${s}`,
      'x'.repeat(5000),
    ]) {
      await expectInactive(await postForm(url('/introspect'), { token: candidate }, as(c1)));
    }
  });

  it('INT-07/INT-16/ES-01: revoked, then introspected at once by the owner and by the audience: inactive', async () => {
    const token = await issue();
    await expect(
      postForm(url('/introspect'), { token }, as(r1)).then((r) => r.json()),
    ).resolves.toMatchObject({
      active: true,
    });
    const revoked = await postForm(url('/revoke'), { token }, as(c1));
    expect(revoked.status).toBe(200);
    const [owner, audience] = await Promise.all([
      postForm(url('/introspect'), { token }, as(c1)),
      postForm(url('/introspect'), { token }, as(r1)),
    ]);
    await expectInactive(owner);
    await expectInactive(audience);
  });

  it('INT-10: another client, not in the audience, gets inactive (not 403); a client named in aud sees it', async () => {
    const token = await issue();
    await expectInactive(
      await postForm(url('/introspect'), { token, client_id: c2.client_id, client_secret: c2.client_secret }),
    );
    const byAudience = await postForm(url('/introspect'), { token }, as(r1));
    expect(await byAudience.json()).toMatchObject({
      active: true,
      client_id: c1.client_id,
      aud: r1.client_id,
    });
    // R1's own token does not name C1: C1 may not look at it.
    await expectInactive(await postForm(url('/introspect'), { token: await issue(r1, 'read') }, as(c1)));
  });

  it('INT-11: a public client may not introspect (401 invalid_client)', async () => {
    const token = await issue();
    await expectError(
      await postForm(url('/introspect'), { token, client_id: p1.client_id }),
      401,
      'invalid_client',
    );
  });

  it('INT-12: a wrong or unknown token_type_hint still finds the token', async () => {
    const token = await issue();
    for (const hint of ['refresh_token', 'foo', 'access_token']) {
      const res = await postForm(url('/introspect'), { token, token_type_hint: hint }, as(c1));
      expect(await res.json()).toMatchObject({ active: true, jti: decodeJwt(token).jti });
    }
  });

  it('INT-13: a missing token is 400 invalid_request', async () => {
    await expectError(await postForm(url('/introspect'), {}, as(c1)), 400, 'invalid_request');
  });

  it('INT-14: GET is refused, and a token in the query string is not read', async () => {
    const token = await issue();
    const get = await fetch(url(`/introspect?token=${token}`), { headers: as(c1) });
    expect([400, 405]).toContain(get.status);
    expect(await get.text()).not.toContain('"active"');
    const query = await postForm(url(`/introspect?token=${token}`), {}, as(c1));
    await expectError(query, 400, 'invalid_request');
  });

  it('INT-17: a JSON body, a repeated token and a wrong content type are 400 invalid_request', async () => {
    const token = await issue();
    const json = await fetch(url('/introspect'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as(c1) },
      body: JSON.stringify({ token }),
    });
    await expectError(json, 400, 'invalid_request');
    const repeated = await fetch(url('/introspect'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...as(c1) },
      body: `token=${token}&token=${token}`,
    });
    await expectError(repeated, 400, 'invalid_request');
    const text = await fetch(url('/introspect'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...as(c1) },
      body: `token=${token}`,
    });
    await expectError(text, 400, 'invalid_request');
  });

  it('ES-01 on every replica: with a second introspection process sharing the requests, revoke-then-introspect is always inactive', async () => {
    const replica = await system.launch('introspection', 'introspection-2');
    try {
      await system.waitOpsReady('introspection-2');
      for (let i = 0; i < 20; i++) {
        const token = await issue();
        expect((await postForm(url('/revoke'), { token }, as(c1))).status).toBe(200);
        await expectInactive(await postForm(url('/introspect'), { token }, as(c1)));
      }
    } finally {
      const exited = new Promise((done) => replica.once('exit', done));
      replica.kill('SIGTERM');
      setTimeout(() => replica.kill('SIGKILL'), 5000).unref();
      await exited;
    }
  }, 60000);

  it('INT-06 (and REV-04 for an expired token): once exp has passed the token is inactive; revoking it is 200', async () => {
    const token = await issue();
    const exp = decodeJwt(token).exp!;
    await expect(
      postForm(url('/introspect'), { token }, as(c1)).then((r) => r.json()),
    ).resolves.toMatchObject({
      active: true,
    });
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1100));
    await expectInactive(await postForm(url('/introspect'), { token }, as(c1)));
    const revoke = await postForm(url('/revoke'), { token }, as(c1));
    expect(revoke.status).toBe(200);
    expect(await revoke.text()).toBe('');
  }, 30000);
});
