import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { tokenStateProjection } from '#lib/domain-token';
import { createEventStoreDataSource, PgEventStore, ProjectionRows, ProjectionRunner } from '#lib/event-store';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { searchForSecrets } from './support/secret-search.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * The walking skeleton's first flow, end to end over HTTP against the five real processes:
 * CLI registration → client_credentials (RFC 6749 §4.4) → JWT (RFC 9068) → introspection
 * (RFC 7662) → revocation (RFC 7009) → metadata (RFC 8414) → audit history.
 */
describe('client credentials flow, end to end (RFC 6749 §4.4, RFC 9068, RFC 7662, RFC 7009, RFC 8414)', () => {
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };
  let postClient: { client_id: string; client_secret: string };
  const secretsSeen: string[] = [];

  beforeAll(async () => {
    system = await startSystem();
    client = await system.createClient([
      '--name',
      'svc',
      '--grant',
      'client_credentials',
      '--scope',
      'read write',
    ]);
    postClient = await system.createClient([
      '--name',
      'svc-post',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
      '--default-scope',
      'read',
      '--auth-method',
      'client_secret_post',
    ]);
    secretsSeen.push(client.client_secret, postClient.client_secret);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;

  async function issue(scope = 'read write') {
    const res = await postForm(
      url('/token'),
      { grant_type: 'client_credentials', scope },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );
    expect(res.status).toBe(200);
    return (await res.json()) as {
      access_token: string;
      token_type: string;
      expires_in: number;
      scope: string;
    };
  }

  it('the CLI prints a client_id and a secret of at least 256 random bits', () => {
    expect(client.client_id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(Buffer.from(client.client_secret, 'base64url').length).toBeGreaterThanOrEqual(32);
  });

  it('the demo-client command registers the demo client once and re-issues its secret each run', async () => {
    const secretOf = (out: string) => /client_secret: (\S+)/.exec(out)?.[1];
    const first = secretOf(await system.cli(['demo-client']));
    const second = secretOf(await system.cli(['demo-client']));
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    secretsSeen.push(first!, second!);
    const token = (secret: string) =>
      postForm(
        url('/token'),
        { grant_type: 'client_credentials' },
        { authorization: basic('demo-service', secret) },
      );
    expect((await token(first!)).status).toBe(401);
    expect((await token(second!)).status).toBe(200);
  });

  it('a token service started with another KEY_ENCRYPTION_KEY refuses to start and says why', async () => {
    const child = spawn(process.execPath, [resolve(process.cwd(), 'dist/apps/token/src/main.js')], {
      env: {
        ...process.env,
        ...system.env,
        OPS_PORT: '0',
        KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    expect(code).not.toBe(0);
    expect(output).toContain('KEY_ENCRYPTION_KEY cannot open the active signing key');
  }, 30000);

  it('metadata lists the endpoints and the JWKS serves the signing key (RFC 8414 §3)', async () => {
    const res = await fetch(url('/.well-known/oauth-authorization-server'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const meta = (await res.json()) as Record<string, unknown>;
    expect(meta.issuer).toBe(system.issuer);
    expect(meta.token_endpoint).toBe(`${system.issuer}/token`);
    expect(meta.introspection_endpoint).toBe(`${system.issuer}/introspect`);
    expect(meta.revocation_endpoint).toBe(`${system.issuer}/revoke`);
    expect(meta.grant_types_supported).toEqual(['authorization_code', 'refresh_token', 'client_credentials']);
    const jwks = await fetch(meta.jwks_uri as string);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const body = (await jwks.json()) as { keys: Record<string, unknown>[] };
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    expect(body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(body.keys[0]).not.toHaveProperty('d');
  });

  it('client_secret_basic: a JWT access token per RFC 9068, with no-store headers (RFC 6749 §5.1)', async () => {
    const res = await postForm(
      url('/token'),
      { grant_type: 'client_credentials', scope: 'read write' },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'read write' });
    expect(body).not.toHaveProperty('refresh_token');
    const token = body.access_token as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(typeof header.kid).toBe('string');
    const jwks = createRemoteJWKSet(new URL(url('/jwks')));
    const { payload } = await jwtVerify(token, jwks, { issuer: system.issuer, typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: system.issuer,
      sub: client.client_id,
      client_id: client.client_id,
      scope: 'read write',
    });
    for (const claim of ['aud', 'exp', 'iat', 'jti']) expect(payload).toHaveProperty(claim);
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('client_secret_post works for a client registered with it; the default scope applies when scope is omitted', async () => {
    const res = await postForm(url('/token'), {
      grant_type: 'client_credentials',
      client_id: postClient.client_id,
      client_secret: postClient.client_secret,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scope: string }).scope).toBe('read');
  });

  it('a wrong secret is 401 invalid_client with WWW-Authenticate (RFC 6749 §5.2)', async () => {
    const res = await postForm(
      url('/token'),
      { grant_type: 'client_credentials' },
      {
        authorization: basic(client.client_id, 'not-the-secret'),
      },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
  });

  it('an unknown client is answered exactly like a wrong secret (checklist CAUTH-03)', async () => {
    const res = await postForm(
      url('/token'),
      { grant_type: 'client_credentials' },
      {
        authorization: basic('no-such-client', 'whatever'),
      },
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
  });

  it('an unknown grant_type is 400 unsupported_grant_type; password is refused the same way', async () => {
    for (const grant of ['urn:example:unknown', 'password', 'implicit']) {
      const res = await postForm(
        url('/token'),
        { grant_type: grant },
        {
          authorization: basic(client.client_id, client.client_secret),
        },
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(((await res.json()) as { error: string }).error).toBe('unsupported_grant_type');
    }
  });

  it("a scope outside the client's is invalid_scope; GET /token is 405 with Allow: POST", async () => {
    const res = await postForm(
      url('/token'),
      { grant_type: 'client_credentials', scope: 'admin' },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_scope');
    const get = await fetch(url('/token'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const post = await fetch(url('/.well-known/oauth-authorization-server'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('introspection says active with the claims; after /revoke it says exactly {"active":false} at once', async () => {
    const { access_token } = await issue();
    const auth = { authorization: basic(client.client_id, client.client_secret) };
    const active = await postForm(url('/introspect'), { token: access_token }, auth);
    expect(active.status).toBe(200);
    expect(active.headers.get('cache-control')).toBe('no-store');
    const claims = (await active.json()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      active: true,
      client_id: client.client_id,
      sub: client.client_id,
      scope: 'read write',
      token_type: 'Bearer',
      iss: system.issuer,
    });
    for (const c of ['exp', 'iat', 'jti', 'aud']) expect(claims).toHaveProperty(c);

    const revoked = await postForm(url('/revoke'), { token: access_token }, auth);
    expect(revoked.status).toBe(200);
    const after = await postForm(url('/introspect'), { token: access_token }, auth);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('{"active":false}');
  });

  it('introspection of garbage is {"active":false}; without client authentication it is 401 invalid_client', async () => {
    const auth = { authorization: basic(client.client_id, client.client_secret) };
    const garbage = await postForm(url('/introspect'), { token: 'not-a-token' }, auth);
    expect(await garbage.text()).toBe('{"active":false}');
    const { access_token } = await issue();
    const anonymous = await postForm(url('/introspect'), { token: access_token });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('every step is an event, and GET /admin/tokens/{jti}/history returns them in order', async () => {
    const { access_token } = await issue('read');
    const { payload } = await jwtVerify(access_token, createRemoteJWKSet(new URL(url('/jwks'))));
    const jti = payload.jti!;
    await postForm(
      url('/revoke'),
      { token: access_token },
      { authorization: basic(client.client_id, client.client_secret) },
    );

    const denied = await fetch(url(`/admin/tokens/${jti}/history`));
    expect(denied.status).toBe(401);
    const wrong = await fetch(url(`/admin/tokens/${jti}/history`), {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);

    const res = await fetch(url(`/admin/tokens/${jti}/history`), {
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    expect(res.status).toBe(200);
    const history = (await res.json()) as {
      jti: string;
      events: {
        type: string;
        version: number;
        position: number;
        data: Record<string, unknown>;
        metadata: Record<string, unknown>;
      }[];
    };
    expect(history.jti).toBe(jti);
    expect(history.events.map((e) => e.type)).toEqual(['AccessTokenIssued', 'AccessTokenRevoked']);
    expect(history.events.map((e) => e.version)).toEqual([1, 2]);
    expect(history.events[0]!.position).toBeLessThan(history.events[1]!.position);
    expect(history.events[0]!.data).toMatchObject({ jti, clientId: client.client_id, scope: ['read'] });
    expect(history.events[0]!.metadata).toMatchObject({ actor: `client:${client.client_id}` });
    expect(history.events[1]!.data).toMatchObject({ jti, revokedBy: client.client_id });

    const unknown = await fetch(url('/admin/tokens/unknown-jti/history'), {
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    expect(unknown.status).toBe(404);

    const db = new pg.Client({ connectionString: system.database.url });
    await db.connect();
    try {
      const registered = await db.query(
        `select type from events where stream_id = $1 order by stream_version`,
        [`client-${client.client_id}`],
      );
      expect(registered.rows.map((r: { type: string }) => r.type)).toEqual(['ClientRegistered']);
    } finally {
      await db.end();
    }
  });

  it('token_state rebuilt from position 0 equals the live projection the introspection service built', async () => {
    await issue('read');
    const ds = createEventStoreDataSource(system.database.url, { poolSize: 2 });
    await ds.initialize();
    try {
      const store = new PgEventStore(ds);
      const rows = new ProjectionRows(ds);
      const shadow = { ...tokenStateProjection, name: 'token_state_rebuild_check' };
      const live = async () =>
        (await rows.all(tokenStateProjection.name)).map(({ key, row }) => ({ key, row }));
      const head = await store.headPosition();
      // the live runner has applied everything up to now (it is woken by every introspection miss)
      const deadline = Date.now() + 10000;
      let liveRows = await live();
      const issued = (await store.readAll(0, 100000)).filter((e) => e.type === 'AccessTokenIssued').length;
      while (liveRows.length < issued && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        liveRows = await live();
      }
      const runner = new ProjectionRunner(ds, store, [shadow], { checkpointName: 'rebuild-check' });
      await runner.rebuild(shadow.name);
      expect(await runner.position()).toBeGreaterThanOrEqual(head);
      const rebuilt = (await rows.all(shadow.name)).map(({ key, row }) => ({ key, row }));
      expect(rebuilt.length).toBe(issued);
      expect(rebuilt).toEqual(await live());
      expect(rebuilt.some(({ row }) => (row as { status: string }).status === 'revoked')).toBe(true);
    } finally {
      await ds.destroy();
    }
  });

  it('no client secret appears in any table, event or JetStream message, in any form but its hash', async () => {
    const search = await searchForSecrets(
      system,
      secretsSeen,
      (secret) => [
        secret,
        Buffer.from(secret).toString('base64'),
        Buffer.from(secret, 'base64url').toString('hex'),
      ],
      4,
    );
    expect(search.tablesSearched).toBeGreaterThan(0);
    expect(search.messagesSearched).toBeGreaterThan(0);
    expect(search.hits).toEqual([]);
  });
});
