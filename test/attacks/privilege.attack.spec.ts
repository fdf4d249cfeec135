import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';
import { eventsOfType } from '../support/authorize.js';
import { seedAuthorizationCode } from '../support/grants.js';
import { forgeAccessToken } from '../support/forge.js';
import { pkcePair } from '../support/authorize.js';

/**
 * Issue 18, item 1 and item 10, performed as an attacker would: self-service registration
 * (RFC 7591 and RFC 7592) must never yield more than the registration policy allows, an
 * administrator's privilege is granted only by an administrator, and the admin API accepts only
 * tokens meant for it, on its own listener.
 */
describe('privilege boundaries: registration and the admin API (checklist PRIV-01..05)', () => {
  let system: RunningSystem;
  let open: RunningSystem;

  const json = (body: unknown) => JSON.stringify(body);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const adminHeaders = () => ({ ...bearer(system.adminToken), 'content-type': 'application/json' });

  async function initialAccessToken(body: Record<string, unknown> = {}): Promise<{
    initial_access_token: string;
    id: string;
  }> {
    const res = await fetch(`${system.adminUrl}/admin/initial-access-tokens`, {
      method: 'POST',
      headers: adminHeaders(),
      body: json(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { initial_access_token: string; id: string };
  }

  async function register(target: RunningSystem, doc: Record<string, unknown>, token?: string) {
    const res = await fetch(`${target.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
      body: json(doc),
    });
    return { res, body: (await res.json()) as Record<string, unknown> };
  }

  async function clientCredentials(clientId: string, secret: string, scope: string) {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope },
      { authorization: basic(clientId, secret) },
    );
    return { res, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    system = await startSystem();
    open = await startSystem({ env: { OPEN_REGISTRATION: 'true' } });
  }, 180000);

  afterAll(async () => {
    await system?.stop();
    await open?.stop();
  });

  it('PRIV-01: POST /register asking for scope admin is invalid_client_metadata naming scope', async () => {
    const { initial_access_token } = await initialAccessToken();
    const { res, body } = await register(
      system,
      { client_name: 'mallory', grant_types: ['client_credentials'], scope: 'admin' },
      initial_access_token,
    );
    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
    expect(String(body.error_description)).toMatch(/scope/);
    expect(JSON.stringify(body)).not.toContain('client_secret');
  });

  it('PRIV-01: with OPEN_REGISTRATION=true nobody gets admin either', async () => {
    const { res, body } = await register(open, {
      client_name: 'mallory',
      grant_types: ['client_credentials'],
      scope: 'read admin',
    });
    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
  });

  it('PRIV-01: a client registered with read gets invalid_scope when it asks for admin', async () => {
    const { initial_access_token } = await initialAccessToken();
    const { res, body } = await register(
      system,
      { client_name: 'reader', grant_types: ['client_credentials'], scope: 'read' },
      initial_access_token,
    );
    expect(res.status).toBe(201);
    const token = await clientCredentials(String(body.client_id), String(body.client_secret), 'admin');
    expect(token.res.status).toBe(400);
    expect(token.body.error).toBe('invalid_scope');
  });

  it('PRIV-02: a client cannot raise its own scope, audience, lifetimes or switch PKCE off (RFC 7592)', async () => {
    const { initial_access_token } = await initialAccessToken();
    const doc = {
      client_name: 'self-updater',
      grant_types: ['authorization_code', 'client_credentials'],
      redirect_uris: ['https://self.test/cb'],
      scope: 'read',
    };
    const created = await register(system, doc, initial_access_token);
    expect(created.res.status).toBe(201);
    const uri = String(created.body.registration_client_uri).replace(system.issuer, system.baseUrl);
    const rat = String(created.body.registration_access_token);
    const raises: [string, Record<string, unknown>][] = [
      ['scope', { scope: 'read admin' }],
      ['audience', { audience: ['https://api.internal.test'] }],
      ['access_token_ttl_seconds', { access_token_ttl_seconds: 86400 }],
      ['refresh_token_ttl_seconds', { refresh_token_ttl_seconds: 365 * 86400 }],
      ['require_pkce', { require_pkce: false }],
    ];
    for (const [field, change] of raises) {
      const res = await fetch(uri, {
        method: 'PUT',
        headers: { ...bearer(rat), 'content-type': 'application/json' },
        body: json({ ...doc, client_id: created.body.client_id, ...change }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      expect([field, res.status, body.error]).toEqual([field, 400, 'invalid_client_metadata']);
      expect(String(body.error_description)).toContain(field);
    }
    // Nothing changed.
    const read = (await (await fetch(uri, { headers: bearer(rat) })).json()) as Record<string, unknown>;
    expect(read.scope).toBe('read');
    expect(read.audience).toEqual([]);
    expect(read.require_pkce).toBe(true);
    expect(read.access_token_ttl_seconds).toBeUndefined();
  });

  it('PRIV-02: self-registration cannot choose an audience, a longer lifetime, or PKCE off', async () => {
    const base = {
      client_name: 'chooser',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://chooser.test/cb'],
      scope: 'read',
    };
    for (const change of [
      { audience: ['https://api.internal.test'] },
      { access_token_ttl_seconds: 86400 },
      { require_pkce: false },
    ]) {
      const { initial_access_token } = await initialAccessToken();
      const { res, body } = await register(system, { ...base, ...change }, initial_access_token);
      expect([change, res.status, body.error]).toEqual([change, 400, 'invalid_client_metadata']);
    }
  });

  it('PRIV-03: an initial access token limited to one use is refused the second time; each use is an event', async () => {
    const { initial_access_token, id } = await initialAccessToken({ max_uses: 1 });
    const doc = { client_name: 'once', grant_types: ['client_credentials'], scope: 'read' };
    expect((await register(system, doc, initial_access_token)).res.status).toBe(201);
    const second = await register(system, doc, initial_access_token);
    expect(second.res.status).toBe(401);
    expect(second.body.error).toBe('invalid_token');
    const uses = await eventsOfType<{ id: string; clientId: string }>(system, 'InitialAccessTokenUsed');
    expect(uses.filter((e) => e.data.id === id)).toHaveLength(1);
    const listed = (await (
      await fetch(`${system.adminUrl}/admin/initial-access-tokens`, { headers: bearer(system.adminToken) })
    ).json()) as { initial_access_tokens: { id: string; uses: number; max_uses: number | null }[] };
    expect(listed.initial_access_tokens.find((t) => t.id === id)).toMatchObject({ uses: 1, max_uses: 1 });
  });

  it('PRIV-03: a revoked initial access token is refused; an expired one too', async () => {
    const revoked = await initialAccessToken();
    const del = await fetch(`${system.adminUrl}/admin/initial-access-tokens/${revoked.id}`, {
      method: 'DELETE',
      headers: bearer(system.adminToken),
    });
    expect(del.status).toBe(204);
    const doc = { client_name: 'late', grant_types: ['client_credentials'], scope: 'read' };
    const afterRevocation = await register(system, doc, revoked.initial_access_token);
    expect([afterRevocation.res.status, afterRevocation.body.error]).toEqual([401, 'invalid_token']);

    const shortLived = await initialAccessToken({ ttl_seconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const afterExpiry = await register(system, doc, shortLived.initial_access_token);
    expect([afterExpiry.res.status, afterExpiry.body.error]).toEqual([401, 'invalid_token']);
  });

  it('PRIV-04: a token with scope admin for another audience is refused by the admin API', async () => {
    const admin = await system.createClient([
      '--name',
      'ops',
      '--grant',
      'client_credentials',
      '--scope',
      'admin',
    ]);
    const forged = await forgeAccessToken(system, {
      sub: admin.client_id,
      client_id: admin.client_id,
      aud: 'https://api.test',
      scope: 'admin',
    });
    const res = await fetch(`${system.adminUrl}/admin/clients`, { headers: bearer(forged) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it("PRIV-04: a user's token with scope admin is insufficient_scope (no admin role)", async () => {
    const admin = await system.createClient([
      '--name',
      'ops-web',
      '--grant',
      'authorization_code',
      '--scope',
      'admin',
      '--redirect-uri',
      'https://ops.test/cb',
    ]);
    const { verifier, challenge } = pkcePair();
    const code = await seedAuthorizationCode(system, {
      clientId: admin.client_id,
      deliveredTo: 'https://ops.test/cb',
      scope: ['admin'],
      codeChallenge: challenge,
      sub: 'sub-alice',
    });
    const redeemed = await postForm(
      `${system.baseUrl}/token`,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'https://ops.test/cb',
        code_verifier: verifier,
      },
      { authorization: basic(admin.client_id, admin.client_secret) },
    );
    expect(redeemed.status).toBe(200);
    const { access_token } = (await redeemed.json()) as { access_token: string };
    const res = await fetch(`${system.adminUrl}/admin/clients`, { headers: bearer(access_token) });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  });

  it('PRIV-04: an admin client whose privilege was revoked by an administrator is refused', async () => {
    const admin = await system.createClient([
      '--name',
      'ops-revoked',
      '--grant',
      'client_credentials',
      '--scope',
      'admin',
    ]);
    const { body } = await clientCredentials(admin.client_id, admin.client_secret, 'admin');
    const token = String(body.access_token);
    expect((await fetch(`${system.adminUrl}/admin/clients`, { headers: bearer(token) })).status).toBe(200);
    await system.cli(['clients', 'revoke-scope', admin.client_id, 'admin']);
    const res = await fetch(`${system.adminUrl}/admin/clients`, { headers: bearer(token) });
    expect(res.status).toBe(401);
    const grants = await eventsOfType<{ clientId: string; scope: string }>(system, 'ClientPrivilegeRevoked');
    expect(grants.find((e) => e.data.clientId === admin.client_id)?.metadata.actor).toBe('admin');
  });

  it('PRIV-05: the admin API and the audit pages are not on the public listener', async () => {
    for (const path of [
      '/admin/clients',
      '/admin/users',
      '/admin/audit/clients/x',
      '/openapi.json',
      '/admin/docs',
      '/admin/docs/init.js',
    ]) {
      const res = await fetch(`${system.baseUrl}${path}`, { headers: bearer(system.adminToken) });
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect(system.adminUrl).not.toBe(system.baseUrl);
    const res = await fetch(`${system.adminUrl}/admin/clients`, { headers: bearer(system.adminToken) });
    expect(res.status).toBe(200);
  });
});
