import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { searchForSecrets } from './support/secret-search.js';
import { postFormFrom } from './support/source-address.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * The client registry end to end over HTTP against the five real processes (checklist sections 5
 * and 14, STORE-01): RFC 7591 registration behind an initial access token, RFC 7592 management,
 * the admin API (ADMIN_TOKEN and admin-scoped access tokens), secret rotation, private_key_jwt
 * (RFC 7523), throttling, and disabling or deleting a client revoking its tokens.
 */
describe('client registry, end to end (RFC 7591, RFC 7592, RFC 7523 §2.2, checklist REG, CAUTH, STORE-01)', () => {
  let system: RunningSystem;
  let iat: string;
  const secretsSeen: string[] = [];
  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;

  beforeAll(async () => {
    system = await startSystem({
      env: { CLIENT_AUTH_MAX_FAILURES: '10', CLIENT_AUTH_FAILURE_WINDOW_SECONDS: '60' },
    });
    const out = await system.cli(['clients', 'initial-access-token', '--json']);
    iat = (JSON.parse(out.trim().split('\n').pop()!) as { initial_access_token: string })
      .initial_access_token;
    secretsSeen.push(iat);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  const json = (body: unknown, token?: string, method = 'POST', path = '/register') =>
    fetch(url(path), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const admin = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    fetch(url(path), {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${init.token ?? system.adminToken}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  interface Registered {
    client_id: string;
    client_secret?: string;
    registration_access_token: string;
    registration_client_uri: string;
    [k: string]: unknown;
  }

  async function register(doc: Record<string, unknown>): Promise<Registered> {
    const res = await json(doc, iat);
    const body = (await res.json()) as Registered;
    expect({ status: res.status, body }).toMatchObject({ status: 201 });
    if (body.client_secret) secretsSeen.push(body.client_secret);
    secretsSeen.push(body.registration_access_token);
    return body;
  }

  const service = (name: string, extra: Record<string, unknown> = {}) =>
    register({ client_name: name, grant_types: ['client_credentials'], scope: 'read write', ...extra });

  /** A client whose audience an administrator sets (self-registration may not choose one). */
  async function serviceFor(name: string, audience: string[]): Promise<Registered> {
    const res = await admin('/admin/clients', {
      method: 'POST',
      body: { client_name: name, grant_types: ['client_credentials'], scope: 'read write', audience },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Registered;
    secretsSeen.push(body.client_secret!, body.registration_access_token);
    return body;
  }

  /**
   * `from`: a loopback source address of the caller's own (client authentication is throttled per
   * source address, so tests that fail on purpose use addresses of their own).
   */
  async function token(id: string, secret: string, scope = 'read', from?: string) {
    const form = { grant_type: 'client_credentials', scope };
    const headers = { authorization: basic(id, secret) };
    return from ? postFormFrom(from, url('/token'), form, headers) : postForm(url('/token'), form, headers);
  }

  async function accessToken(id: string, secret: string, scope = 'read'): Promise<string> {
    const res = await token(id, secret, scope);
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  describe('POST /register (RFC 7591 §3; checklist REG)', () => {
    it('without an initial access token is 401 invalid_token (REG-13, decision 12)', async () => {
      for (const t of [undefined, 'not-a-token']) {
        const res = await json({ client_name: 'x', grant_types: ['client_credentials'] }, t);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
      }
    });

    it('registers a confidential client: generated id, 256-bit secret shown once, no-store (REG-01, REG-11)', async () => {
      const res = await json(
        {
          client_id: 'alice',
          client_name: 'C1',
          redirect_uris: ['https://c1.test/cb'],
          grant_types: ['authorization_code', 'refresh_token'],
          scope: 'read write',
          contacts: ['ops@c1.test'],
        },
        iat,
      );
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as Registered;
      secretsSeen.push(body.client_secret!, body.registration_access_token);
      expect(body.client_id).not.toBe('alice');
      expect(Buffer.from(body.client_secret!, 'base64url').length).toBeGreaterThanOrEqual(32);
      expect(body).toMatchObject({
        client_secret_expires_at: 0,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: ['https://c1.test/cb'],
        response_types: ['code'],
        require_pkce: true,
        registration_client_uri: `${system.issuer}/register/${body.client_id}`,
      });
    });

    it('a public client gets no secret (REG-02)', async () => {
      const body = await register({
        client_name: 'P1',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb'],
      });
      expect(body.client_secret).toBeUndefined();
      expect(body.token_endpoint_auth_method).toBe('none');
    });

    it.each([
      ['a fragment (REG-03)', ['https://c.test/cb#x']],
      ['a relative URI (REG-04)', ['/cb']],
      ['http on a non-loopback host (REG-05)', ['http://c.test/cb']],
      ['javascript: (REG-06)', ['javascript:alert(1)']],
      ['data: (REG-06)', ['data:text/html,hi']],
      ['a private-use scheme without a period (REG-07)', ['myapp:/cb']],
      ['a wildcard (REG-08)', ['https://*.c.test/cb']],
      ['userinfo (REG-09)', ['https://u:p@c.test/cb']],
    ])('refuses %s with 400 invalid_redirect_uri', async (_n, uris) => {
      const res = await json(
        { client_name: 'x', token_endpoint_auth_method: 'none', redirect_uris: uris },
        iat,
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_redirect_uri');
    });

    it.each([
      [
        'a public client with client_credentials',
        { token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
      ],
      ['the password grant', { grant_types: ['password'] }],
      ['the implicit grant', { grant_types: ['implicit'] }],
      [
        'response_types token',
        {
          grant_types: ['authorization_code'],
          response_types: ['token'],
          redirect_uris: ['https://c.test/cb'],
        },
      ],
      [
        'a public client without PKCE',
        { token_endpoint_auth_method: 'none', require_pkce: false, redirect_uris: ['https://c.test/cb'] },
      ],
    ])('refuses %s with 400 invalid_client_metadata (REG-10)', async (_n, doc) => {
      const res = await json({ client_name: 'x', ...doc }, iat);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client_metadata');
    });

    it('refuses a 1 MB client_name and 1,000 redirect URIs with 400 or 413, never 500 (REG-14)', async () => {
      const big = await json(
        { client_name: 'n'.repeat(1024 * 1024), grant_types: ['client_credentials'] },
        iat,
      );
      expect([400, 413]).toContain(big.status);
      const many = await json(
        { client_name: 'x', redirect_uris: Array.from({ length: 1000 }, (_, i) => `https://c.test/${i}`) },
        iat,
      );
      expect([400, 413]).toContain(many.status);
      const notJson = await json('{', iat);
      expect(notJson.status).toBe(400);
    });
  });

  describe('RFC 7592 management with the registration access token', () => {
    it('reads (never the secret), updates, then deletes; the deleted client no longer authenticates (REG-12)', async () => {
      const c = await service('managed');
      const path = new URL(c.registration_client_uri).pathname;
      const read = await json(undefined, c.registration_access_token, 'GET', path);
      expect(read.status).toBe(200);
      const doc = (await read.json()) as Record<string, unknown>;
      expect(doc.client_id).toBe(c.client_id);
      expect(JSON.stringify(doc)).not.toContain(c.client_secret!);
      expect(doc).not.toHaveProperty('client_secret');

      const wrong = await json(undefined, 'wrong-token', 'GET', path);
      expect(wrong.status).toBe(401);
      expect(((await wrong.json()) as { error: string }).error).toBe('invalid_token');
      const otherClient = await service('other');
      const cross = await json(undefined, otherClient.registration_access_token, 'GET', path);
      expect(cross.status).toBe(401);

      const updated = await json(
        {
          client_id: c.client_id,
          client_name: 'managed v2',
          grant_types: ['client_credentials'],
          scope: 'read',
        },
        c.registration_access_token,
        'PUT',
        path,
      );
      expect(updated.status).toBe(200);
      expect(await updated.json()).toMatchObject({ client_name: 'managed v2', scope: 'read' });
      expect((await token(c.client_id, c.client_secret!, 'read')).status).toBe(200);
      const outOfScope = await token(c.client_id, c.client_secret!, 'write');
      expect(((await outOfScope.json()) as { error: string }).error).toBe('invalid_scope');

      const del = await json(undefined, c.registration_access_token, 'DELETE', path);
      expect(del.status).toBe(204);
      expect((await json(undefined, c.registration_access_token, 'GET', path)).status).toBe(401);
      const after = await token(c.client_id, c.client_secret!);
      expect(after.status).toBe(401);
      expect(((await after.json()) as { error: string }).error).toBe('invalid_client');
    });
  });

  describe('admin API (ADMIN_TOKEN bootstrap, then an admin-scoped access token)', () => {
    it('refuses a missing or wrong bearer with 401 invalid_token', async () => {
      const res = await admin('/admin/clients', { token: 'x'.repeat(40) });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
    });

    it('an access token with scope admin works and is the recorded actor; one for another audience (scope read) is 401 invalid_token', async () => {
      const created = await admin('/admin/clients', {
        method: 'POST',
        body: { client_name: 'ops', grant_types: ['client_credentials'], scope: 'admin read' },
      });
      expect(created.status).toBe(201);
      const ops = (await created.json()) as Registered;
      secretsSeen.push(ops.client_secret!, ops.registration_access_token);
      const adminJwt = await accessToken(ops.client_id, ops.client_secret!, 'admin');
      const readJwt = await accessToken(ops.client_id, ops.client_secret!, 'read');

      // RFC 9068 §4: a token whose aud does not name the admin API is not one for it.
      const forbidden = await admin('/admin/clients', { token: readJwt });
      expect(forbidden.status).toBe(401);
      expect(((await forbidden.json()) as { error: string }).error).toBe('invalid_token');

      const target = await service('target');
      const disabled = await admin(`/admin/clients/${target.client_id}/disable`, {
        method: 'POST',
        token: adminJwt,
      });
      expect(disabled.status).toBe(200);
      expect(((await disabled.json()) as { status: string }).status).toBe('disabled');

      const history = await admin(`/admin/clients/${target.client_id}/history`, { token: adminJwt });
      expect(history.status).toBe(200);
      const events = ((await history.json()) as { events: { type: string; metadata: { actor: string } }[] })
        .events;
      expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([
        ['ClientRegistered', 'anonymous'],
        ['InitialAccessTokenUsed', 'anonymous'],
        ['ClientDisabled', `client:${ops.client_id}`],
      ]);
      expect(JSON.stringify(events)).not.toContain(target.client_secret!);

      // Revoking an admin token (RFC 7009) ends its admin access at once; another one still works.
      const revokedJwt = await accessToken(ops.client_id, ops.client_secret!, 'admin');
      expect((await admin('/admin/clients', { token: revokedJwt })).status).toBe(200);
      const revoke = await fetch(url('/revoke'), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${ops.client_id}:${ops.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token: revokedJwt }).toString(),
      });
      expect(revoke.status).toBe(200);
      expect((await admin('/admin/clients', { token: revokedJwt })).status).toBe(401);
      expect((await admin('/admin/clients', { token: adminJwt })).status).toBe(200);

      // Disabling the admin client ends its tokens' admin access.
      expect((await admin(`/admin/clients/${ops.client_id}/disable`, { method: 'POST' })).status).toBe(200);
      expect((await admin('/admin/clients', { token: adminJwt })).status).toBe(401);
    });

    it('lists clients in pages, gets, updates and deletes one', async () => {
      for (let i = 0; i < 3; i++) await service(`paged-${i}`);
      const first = await admin('/admin/clients?limit=2');
      expect(first.status).toBe(200);
      const page1 = (await first.json()) as { clients: { client_id: string }[]; next: string | null };
      expect(page1.clients).toHaveLength(2);
      expect(page1.next).not.toBeNull();
      const second = (await (
        await admin(`/admin/clients?limit=2&after=${encodeURIComponent(page1.next!)}`)
      ).json()) as {
        clients: { client_id: string }[];
      };
      const ids = [...page1.clients, ...second.clients].map((c) => c.client_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(second.clients.length).toBeGreaterThan(0);

      const c = await service('crud');
      expect((await admin(`/admin/clients/${c.client_id}`)).status).toBe(200);
      const put = await admin(`/admin/clients/${c.client_id}`, {
        method: 'PUT',
        body: { client_name: 'crud v2', grant_types: ['client_credentials'], scope: 'read' },
      });
      expect(put.status).toBe(200);
      expect(((await put.json()) as { client_name: string }).client_name).toBe('crud v2');
      expect((await admin(`/admin/clients/${c.client_id}`, { method: 'DELETE' })).status).toBe(204);
      const gone = await admin(`/admin/clients/${c.client_id}`);
      expect(gone.status).toBe(404);
      const history = (await (await admin(`/admin/clients/${c.client_id}/history`)).json()) as {
        events: { type: string }[];
      };
      // The initial access token's use that registered it is part of its history.
      expect(history.events.map((e) => e.type)).toEqual([
        'ClientRegistered',
        'InitialAccessTokenUsed',
        'ClientUpdated',
        'ClientDeleted',
      ]);
    });
  });

  it('GET /openapi.json on the admin listener describes the admin API', async () => {
    const res = await fetch(url('/openapi.json'));
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/admin/clients',
        '/admin/clients/{id}',
        '/admin/clients/{id}/disable',
        '/admin/clients/{id}/rotate-secret',
        '/admin/clients/{id}/history',
        '/admin/initial-access-tokens',
        '/admin/initial-access-tokens/{id}',
        '/admin/clients/{id}/privileged-scopes',
      ]),
    );
    expect(Object.keys(doc.paths['/admin/clients']!).sort()).toEqual(['get', 'post']);
  });

  describe('secret rotation (checklist REG-12, decision 15)', () => {
    it('without a grace period the old secret is CAUTH-02 at once; with one it keeps working', async () => {
      const c = await service('rotating');
      const r1 = await admin(`/admin/clients/${c.client_id}/rotate-secret`, { method: 'POST' });
      expect(r1.status).toBe(200);
      const s2 = ((await r1.json()) as { client_secret: string }).client_secret;
      secretsSeen.push(s2);
      const old = await token(c.client_id, c.client_secret!);
      expect(old.status).toBe(401);
      expect(old.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect((await token(c.client_id, s2)).status).toBe(200);

      const r2 = await admin(`/admin/clients/${c.client_id}/rotate-secret`, {
        method: 'POST',
        body: { grace_seconds: 300 },
      });
      const s3 = ((await r2.json()) as { client_secret: string }).client_secret;
      secretsSeen.push(s3);
      expect((await token(c.client_id, s2)).status).toBe(200);
      expect((await token(c.client_id, s3)).status).toBe(200);
    });

    it('the CLI lists, shows the history of, disables and deletes a client, with the actor its credential proves (admin)', async () => {
      const c = await service('cli-managed');
      // With --json the CLI's stdout is one JSON document, in the admin API's snake_case.
      const json = (out: string) => JSON.parse(out) as unknown;
      const listed = json(await system.cli(['clients', 'list', '--limit', '100', '--json'])) as {
        clients: { client_id: string }[];
      };
      expect(listed.clients.map((x) => x.client_id)).toContain(c.client_id);
      const disabled = json(await system.cli(['clients', 'disable', c.client_id, '--json'])) as {
        status: string;
      };
      expect(disabled.status).toBe('disabled');
      expect((await token(c.client_id, c.client_secret!)).status).toBe(401);
      await system.cli(['clients', 'delete', c.client_id]);
      const history = json(await system.cli(['clients', 'history', c.client_id, '--json'])) as {
        events: { type: string; metadata: { actor: string } }[];
      };
      expect(history.events.map((e) => [e.type, e.metadata.actor])).toEqual([
        ['ClientRegistered', 'anonymous'],
        ['ClientDisabled', 'admin'],
        ['ClientDeleted', 'admin'],
      ]);
      expect((await admin(`/admin/clients/${c.client_id}`)).status).toBe(404);
    }, 30000);

    it('the CLI rotates too', async () => {
      const c = await service('cli-rotating');
      const out = await system.cli(['clients', 'rotate-secret', c.client_id, '--json']);
      const s2 = (JSON.parse(out.trim().split('\n').pop()!) as { client_secret: string }).client_secret;
      secretsSeen.push(s2);
      expect((await token(c.client_id, c.client_secret!)).status).toBe(401);
      expect((await token(c.client_id, s2)).status).toBe(200);
    }, 30000);
  });

  describe('client authentication (checklist CAUTH)', () => {
    it('enforces the registered method: a client_secret_basic client using the POST body is 401 (CAUTH-15)', async () => {
      const c = await service('basic-only');
      const res = await postForm(url('/token'), {
        grant_type: 'client_credentials',
        client_id: c.client_id,
        client_secret: c.client_secret!,
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    });

    it('throttles per source address, never per client_id: after 10 failures that address gets 429 with Retry-After, the right secret from elsewhere works (CAUTH-19, decision 13)', async () => {
      const c = await service('throttled');
      const other = await service('bystander');
      const A = '127.0.3.19';
      for (let i = 0; i < 10; i++)
        expect((await token(c.client_id, `wrong-${i}`, 'read', A)).status).toBe(401);
      const limited = await token(c.client_id, c.client_secret!, 'read', A);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await limited.json()) as { error: string }).error).toBe('invalid_client');
      // The address is limited whichever client it names.
      expect((await token(other.client_id, other.client_secret!, 'read', A)).status).toBe(429);
      // A correct secret from another address is never refused because of A's failures.
      expect((await token(c.client_id, c.client_secret!, 'read', '127.0.3.20')).status).toBe(200);
      expect((await token(c.client_id, c.client_secret!)).status).toBe(200);
    });

    describe('private_key_jwt (RFC 7523 §2.2, keys made here with jose)', () => {
      let privateKey: CryptoKey;
      let client: Registered;
      const TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

      beforeAll(async () => {
        const pair = await generateKeyPair('ES256');
        privateKey = pair.privateKey;
        const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig', alg: 'ES256' };
        client = await service('pkjwt', {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [jwk] },
        });
      });

      const assertion = (claims: { aud?: string; jti?: string; iss?: string } = {}, key?: CryptoKey) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setIssuer(claims.iss ?? client.client_id)
          .setSubject(client.client_id)
          .setAudience(claims.aud ?? system.issuer)
          .setJti(claims.jti ?? randomUUID())
          .setIssuedAt()
          .setExpirationTime('60s')
          .sign(key ?? privateKey);

      const withAssertion = async (a: string, extra: Record<string, string> = {}) =>
        postForm(url('/token'), {
          grant_type: 'client_credentials',
          scope: 'read',
          client_assertion_type: TYPE,
          client_assertion: a,
          ...extra,
        });

      it('registers with no secret and gets a token with a signed assertion', async () => {
        expect(client.client_secret).toBeUndefined();
        const res = await withAssertion(await assertion());
        expect(res.status).toBe(200);
        expect(((await res.json()) as { token_type: string }).token_type).toBe('Bearer');
      });

      it('a replayed jti is 401 invalid_client (single use)', async () => {
        const a = await assertion({ jti: 'once' });
        expect((await withAssertion(a)).status).toBe(200);
        const replay = await withAssertion(a);
        expect(replay.status).toBe(401);
        expect(((await replay.json()) as { error: string }).error).toBe('invalid_client');
      });

      it.each([
        ['another audience', { aud: 'https://elsewhere.test' }],
        ['another issuer', { iss: 'someone-else' }],
      ])('refuses %s with 401 invalid_client', async (_n, claims) => {
        const res = await withAssertion(await assertion(claims));
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
      });

      it('refuses a key that is not registered, and an assertion plus Basic (one method only)', async () => {
        const other = await generateKeyPair('ES256');
        const res = await withAssertion(await assertion({}, other.privateKey));
        expect(res.status).toBe(401);
        const both = await postForm(
          url('/token'),
          {
            grant_type: 'client_credentials',
            client_assertion_type: TYPE,
            client_assertion: await assertion(),
          },
          { authorization: basic(client.client_id, 'x') },
        );
        expect(both.status).toBe(400);
        expect(((await both.json()) as { error: string }).error).toBe('invalid_request');
      });

      it('authenticates at the introspection endpoint too, with the issuer as audience (CAUTH-21)', async () => {
        const t = (await (await withAssertion(await assertion())).json()) as { access_token: string };
        const res = await postForm(url('/introspect'), {
          token: t.access_token,
          client_assertion_type: TYPE,
          client_assertion: await assertion(),
        });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { active: boolean }).active).toBe(true);
      });
    });
  });

  describe('the token and introspection services hold clients, never stale (issue 9)', () => {
    // `from`: the refusals this block provokes on purpose come from addresses of their own, so that
    // they do not count against the default address's client-authentication throttle (the token
    // service counts /token and /revoke alike, since it decides both).
    const introspect = (token: string, id: string, secret: string, from?: string) =>
      from
        ? postFormFrom(from, url('/introspect'), { token }, { authorization: basic(id, secret) })
        : postForm(url('/introspect'), { token }, { authorization: basic(id, secret) });
    const revoke = (token: string, id: string, secret: string, from?: string) =>
      from
        ? postFormFrom(from, url('/revoke'), { token }, { authorization: basic(id, secret) })
        : postForm(url('/revoke'), { token }, { authorization: basic(id, secret) });
    const REFUSED_FROM = '127.0.3.91';
    const errorOf = async (res: Response) => ({
      status: res.status,
      error: ((await res.json()) as { error?: string }).error,
    });
    const INVALID_CLIENT = { status: 401, error: 'invalid_client' };

    it('a rotated secret is refused at once at /token, /introspect and /revoke, held as it was or not', async () => {
      const c = await service('held-rotating');
      // Both services now hold the client with its first secret.
      const t = await accessToken(c.client_id, c.client_secret!);
      for (let i = 0; i < 3; i++) expect((await token(c.client_id, c.client_secret!)).status).toBe(200);
      expect(await (await introspect(t, c.client_id, c.client_secret!)).json()).toMatchObject({
        active: true,
      });
      const rotated = await admin(`/admin/clients/${c.client_id}/rotate-secret`, { method: 'POST' });
      expect(rotated.status).toBe(200);
      const s2 = ((await rotated.json()) as { client_secret: string }).client_secret;
      secretsSeen.push(s2);
      // No wait: the very next requests.
      expect(await errorOf(await token(c.client_id, c.client_secret!, 'read', REFUSED_FROM))).toEqual(
        INVALID_CLIENT,
      );
      expect(await errorOf(await introspect(t, c.client_id, c.client_secret!, REFUSED_FROM))).toEqual(
        INVALID_CLIENT,
      );
      expect(await errorOf(await revoke(t, c.client_id, c.client_secret!, REFUSED_FROM))).toEqual(
        INVALID_CLIENT,
      );
      expect((await token(c.client_id, s2)).status).toBe(200);
      expect(await (await introspect(t, c.client_id, s2)).json()).toMatchObject({ active: true });
    });

    it('a disabled client gets invalid_client at once, and its tokens introspect as inactive to another caller', async () => {
      const rs = await service('held-rs');
      const c = await serviceFor('held-disabled', [rs.client_id]);
      const t = await accessToken(c.client_id, c.client_secret!);
      expect(await (await introspect(t, c.client_id, c.client_secret!)).json()).toMatchObject({
        active: true,
      });
      expect(await (await introspect(t, rs.client_id, rs.client_secret!)).json()).toMatchObject({
        active: true,
        client_id: c.client_id,
      });
      expect((await admin(`/admin/clients/${c.client_id}/disable`, { method: 'POST' })).status).toBe(200);
      expect(await errorOf(await token(c.client_id, c.client_secret!, 'read', REFUSED_FROM))).toEqual(
        INVALID_CLIENT,
      );
      expect(await errorOf(await introspect(t, c.client_id, c.client_secret!, REFUSED_FROM))).toEqual(
        INVALID_CLIENT,
      );
      const seen = await introspect(t, rs.client_id, rs.client_secret!);
      expect(seen.status).toBe(200);
      expect(await seen.json()).toEqual({ active: false });
    });

    it('no token is committed after ClientDisabled, even with token requests in flight during the disable', async () => {
      const c = await service('held-racing');
      expect((await token(c.client_id, c.client_secret!)).status).toBe(200);
      const statuses: number[] = [];
      let stop = false;
      // From an address of its own: the refusals after the disable count against that address.
      const senders = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const res = await token(c.client_id, c.client_secret!, 'read', '127.0.3.88');
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      });
      await new Promise((r) => setTimeout(r, 150));
      expect((await admin(`/admin/clients/${c.client_id}/disable`, { method: 'POST' })).status).toBe(200);
      stop = true;
      await Promise.all(senders);
      // Refused from then on: 401, or 429 once the refusals pass the throttle's threshold (CAUTH-19).
      expect(statuses.filter((x) => x !== 200 && x !== 401 && x !== 429)).toEqual([]);
      expect(await errorOf(await token(c.client_id, c.client_secret!, 'read', REFUSED_FROM))).toEqual(
        INVALID_CLIENT,
      );
      const db = new pg.Client({ connectionString: system.database.url });
      await db.connect();
      try {
        // Global positions follow commit order: an issuance decided on the held (active) client
        // and committed behind ClientDisabled would show here.
        const { rows } = await db.query(
          `SELECT count(*) FILTER (WHERE e.global_position < d.global_position)::int AS before,
                  count(*) FILTER (WHERE e.global_position > d.global_position)::int AS after
           FROM events e, (SELECT global_position FROM events
                           WHERE stream_id = $2 AND type = 'ClientDisabled') d
           WHERE e.type = 'AccessTokenIssued' AND e.data->>'clientId' = $1`,
          [c.client_id, `client-${c.client_id}`],
        );
        expect(rows[0]).toMatchObject({ after: 0 });
        expect(rows[0].before).toBeGreaterThan(1);
      } finally {
        await db.end();
      }
    });
  });

  describe('disabling or deleting a client revokes its tokens', () => {
    it.each(['disable', 'delete'])(
      'after %s its access token introspects as {"active":false}',
      async (action) => {
        const rs = await service(`rs-${action}`);
        const c = await serviceFor(`svc-${action}`, [rs.client_id]);
        const t = await accessToken(c.client_id, c.client_secret!);
        const introspect = async () => {
          const res = await postForm(
            url('/introspect'),
            { token: t },
            { authorization: basic(rs.client_id, rs.client_secret!) },
          );
          expect(res.status).toBe(200);
          return res.json();
        };
        expect(await introspect()).toMatchObject({ active: true, client_id: c.client_id });
        const res =
          action === 'disable'
            ? await admin(`/admin/clients/${c.client_id}/disable`, { method: 'POST' })
            : await admin(`/admin/clients/${c.client_id}`, { method: 'DELETE' });
        expect(res.ok).toBe(true);
        expect(await introspect()).toEqual({ active: false });
        const again = await token(c.client_id, c.client_secret!);
        expect(again.status).toBe(401);
      },
    );
  });

  it('no client secret, registration or initial access token appears in any table or JetStream message (STORE-01)', async () => {
    expect(secretsSeen.length).toBeGreaterThan(10);
    const search = await searchForSecrets(system, secretsSeen);
    expect(search.tablesSearched).toBeGreaterThan(0);
    expect(search.messagesSearched).toBeGreaterThan(0);
    expect(search.hits).toEqual([]);
  });
});
