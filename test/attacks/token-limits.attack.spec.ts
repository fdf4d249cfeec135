import { decodeJwt } from 'jose';
import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';
import { eventsOfType, pkcePair } from '../support/authorize.js';
import { grantIdOf } from '#lib/domain-grant';
import { seedAuthorizationCode } from '../support/grants.js';

/**
 * Issue 20, items 3 to 5, performed as an attacker (or a careless registration) would: the
 * lifetimes a client's metadata names are clamped by the server's caps at issuance, a refresh
 * never yields a scope the client has since lost, and scope lists are bounded so that comparing
 * them cannot be made expensive.
 */
describe('token limits: lifetimes, refresh scope and scope sets', () => {
  let system: RunningSystem;

  /** The server's caps in this system: above the defaults, so that an administrator may go past those. */
  const ACCESS_CAP = 1200;
  const REFRESH_CAP = 60 * 86400;
  const REDIRECT = 'https://limits.test/cb';

  const json = (body: unknown) => JSON.stringify(body);
  const adminHeaders = () => ({
    authorization: `Bearer ${system.adminToken}`,
    'content-type': 'application/json',
  });

  async function adminCreate(doc: Record<string, unknown>) {
    const res = await fetch(`${system.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: adminHeaders(),
      body: json(doc),
    });
    return { res, body: (await res.json()) as Record<string, unknown> };
  }

  async function adminUpdate(clientId: string, doc: Record<string, unknown>) {
    const res = await fetch(`${system.adminUrl}/admin/clients/${encodeURIComponent(clientId)}`, {
      method: 'PUT',
      headers: adminHeaders(),
      body: json({ ...doc, client_id: clientId }),
    });
    expect(res.status).toBe(200);
  }

  async function token(clientId: string, secret: string, form: Record<string, string>) {
    const res = await postForm(`${system.baseUrl}/token`, form, { authorization: basic(clientId, secret) });
    return { res, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    system = await startSystem({
      env: {
        ACCESS_TOKEN_MAX_TTL_SECONDS: String(ACCESS_CAP),
        REFRESH_TOKEN_MAX_TTL_SECONDS: String(REFRESH_CAP),
        // The body limit is not what refuses the long scope lists below.
        MAX_BODY_BYTES: String(1024 * 1024),
      },
    });
  }, 180000);

  afterAll(async () => {
    await system?.stop();
  });

  it('COST-03: an admin-registered client with access_token_ttl_seconds 86400 gets expires_in at most the server cap', async () => {
    const long = await adminCreate({
      client_name: 'long-lived',
      grant_types: ['client_credentials'],
      scope: 'read',
      access_token_ttl_seconds: 86400,
    });
    expect(long.res.status).toBe(201);
    const issued = await token(String(long.body.client_id), String(long.body.client_secret), {
      grant_type: 'client_credentials',
      scope: 'read',
    });
    expect(issued.res.status).toBe(200);
    expect(issued.body.expires_in).toBe(ACCESS_CAP);
    const claims = decodeJwt(String(issued.body.access_token));
    expect(claims.exp! - claims.iat!).toBe(ACCESS_CAP);

    // Below the cap, the client's own value holds (metadata may lower, and an administrator may
    // go past the default up to the cap); without one, the server's default.
    const shorter = await adminCreate({
      client_name: 'shorter',
      grant_types: ['client_credentials'],
      scope: 'read',
      access_token_ttl_seconds: 900,
    });
    const plain = await adminCreate({
      client_name: 'plain',
      grant_types: ['client_credentials'],
      scope: 'read',
    });
    for (const [client, expected] of [
      [shorter, 900],
      [plain, 600],
    ] as const) {
      const t = await token(String(client.body.client_id), String(client.body.client_secret), {
        grant_type: 'client_credentials',
        scope: 'read',
      });
      expect(t.body.expires_in).toBe(expected);
    }
  });

  it("COST-03: an admin-registered client with refresh_token_ttl_seconds of a year gets a family no longer than the server's cap", async () => {
    const client = await adminCreate({
      client_name: 'long-family',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'read',
      refresh_token_ttl_seconds: 365 * 86400,
      access_token_ttl_seconds: 86400,
    });
    expect(client.res.status).toBe(201);
    const clientId = String(client.body.client_id);
    const { verifier, challenge } = pkcePair();
    const code = await seedAuthorizationCode(system, {
      clientId,
      deliveredTo: REDIRECT,
      scope: ['read'],
      codeChallenge: challenge,
    });
    const redeemed = await token(clientId, String(client.body.client_secret), {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(redeemed.res.status).toBe(200);
    expect(redeemed.body.expires_in).toBe(ACCESS_CAP);
    const issued = await eventsOfType<{ issuedAt: string; familyExpiresAt: string; accessTokenJti: string }>(
      system,
      'RefreshTokenIssued',
    );
    const jti = decodeJwt(String(redeemed.body.access_token)).jti;
    const family = issued.find((e) => e.data.accessTokenJti === jti);
    expect(family).toBeDefined();
    const lifetime = (Date.parse(family!.data.familyExpiresAt) - Date.parse(family!.data.issuedAt)) / 1000;
    expect(lifetime).toBe(REFRESH_CAP);
  });

  /** A user's grant for `scope`, redeemed: its refresh token. */
  async function refreshTokenFor(clientId: string, secret: string, scope: string[]): Promise<string> {
    const { verifier, challenge } = pkcePair();
    const code = await seedAuthorizationCode(system, {
      clientId,
      deliveredTo: REDIRECT,
      scope,
      codeChallenge: challenge,
    });
    const redeemed = await token(clientId, secret, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(redeemed.res.status).toBe(200);
    expect(redeemed.body.scope).toBe(scope.join(' '));
    return String(redeemed.body.refresh_token);
  }

  it('COST-04: a refresh after the client was narrowed returns only the narrowed scope', async () => {
    const doc = {
      client_name: 'narrowed',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'email profile',
    };
    const client = await adminCreate(doc);
    expect(client.res.status).toBe(201);
    const clientId = String(client.body.client_id);
    const secret = String(client.body.client_secret);
    let refreshToken = await refreshTokenFor(clientId, secret, ['email', 'profile']);

    await adminUpdate(clientId, { ...doc, scope: 'profile' });
    const refreshed = await token(clientId, secret, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    expect(refreshed.res.status).toBe(200);
    expect(refreshed.body.scope).toBe('profile');
    expect(decodeJwt(String(refreshed.body.access_token)).scope).toBe('profile');
    refreshToken = String(refreshed.body.refresh_token);

    // Asking for the scope taken away is invalid_scope (RFC 6749 §5.2), never a silent subset.
    const asked = await token(clientId, secret, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: 'email',
    });
    expect([asked.res.status, asked.body.error]).toEqual([400, 'invalid_scope']);

    // Nothing of the grant left to the client: invalid_scope, and the family is not ended, so
    // that an administrator's mistake does not cost every user their grant.
    await adminUpdate(clientId, { ...doc, scope: 'other' });
    const none = await token(clientId, secret, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect([none.res.status, none.body.error]).toEqual([400, 'invalid_scope']);
    expect(
      (await eventsOfType<{ grantId: string }>(system, 'GrantRevoked')).filter(
        (e) => e.data.grantId === grantIdOf(refreshToken),
      ),
    ).toEqual([]);
    await adminUpdate(clientId, doc);
    const restored = await token(clientId, secret, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    expect(restored.res.status).toBe(200);
    expect(restored.body.scope).toBe('email profile');
  });

  it('COST-04: a client widened by an administrator gets the new scope at once (no refusal on a stale copy)', async () => {
    const doc = { client_name: 'widened', grant_types: ['client_credentials'], scope: 'read' };
    const client = await adminCreate(doc);
    const clientId = String(client.body.client_id);
    const secret = String(client.body.client_secret);
    expect(
      (await token(clientId, secret, { grant_type: 'client_credentials', scope: 'read' })).res.status,
    ).toBe(200);
    const before = await token(clientId, secret, { grant_type: 'client_credentials', scope: 'write' });
    expect(before.body.error).toBe('invalid_scope');
    await adminUpdate(clientId, { ...doc, scope: 'read write' });
    const after = await token(clientId, secret, { grant_type: 'client_credentials', scope: 'write' });
    expect([after.res.status, after.body.scope]).toEqual([200, 'write']);
  });

  /** `n` distinct scope tokens. */
  const manyScopes = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`).join(' ');

  it('COST-05: a registration with 16,000 scopes is refused with invalid_client_metadata naming scope (admin API and RFC 7591)', async () => {
    const doc = { client_name: 'wide', grant_types: ['client_credentials'], scope: manyScopes(16000) };
    const byAdmin = await adminCreate(doc);
    expect([byAdmin.res.status, byAdmin.body.error]).toEqual([400, 'invalid_client_metadata']);
    expect(String(byAdmin.body.error_description)).toMatch(/scope/);

    const iat = await fetch(`${system.adminUrl}/admin/initial-access-tokens`, {
      method: 'POST',
      headers: adminHeaders(),
      body: '{}',
    });
    const { initial_access_token } = (await iat.json()) as { initial_access_token: string };
    const self = await fetch(`${system.baseUrl}/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${initial_access_token}`, 'content-type': 'application/json' },
      body: json(doc),
    });
    const body = (await self.json()) as Record<string, unknown>;
    expect([self.status, body.error]).toEqual([400, 'invalid_client_metadata']);
    expect(String(body.error_description)).toMatch(/scope/);

    // A scope token longer than the bound is refused the same way.
    const long = await adminCreate({ ...doc, scope: `read ${'x'.repeat(129)}` });
    expect([long.res.status, long.body.error]).toEqual([400, 'invalid_client_metadata']);
  });

  it('COST-05: a token request with thousands of scope values is invalid_scope, not a 500', async () => {
    const client = await adminCreate({
      client_name: 'reader',
      grant_types: ['client_credentials'],
      scope: 'read',
    });
    expect(client.res.status).toBe(201);
    const clientId = String(client.body.client_id);
    const secret = String(client.body.client_secret);
    const repeated = await token(clientId, secret, {
      grant_type: 'client_credentials',
      scope: Array.from({ length: 5000 }, () => 'read').join(' '),
    });
    expect([repeated.res.status, repeated.body.error]).toEqual([400, 'invalid_scope']);
    const distinct = await token(clientId, secret, {
      grant_type: 'client_credentials',
      scope: manyScopes(5000),
    });
    expect([distinct.res.status, distinct.body.error]).toEqual([400, 'invalid_scope']);
    const ok = await token(clientId, secret, { grant_type: 'client_credentials', scope: 'read' });
    expect(ok.res.status).toBe(200);
  });
});
