import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Client secrets with a lifetime (RFC 7591 §3.2.1 client_secret_expires_at; checklist CAUTH-16),
 * black box against the five real processes: with CLIENT_SECRET_TTL_SECONDS set, a secret works
 * until its client_secret_expires_at, is then refused with 401 invalid_client exactly like a wrong
 * secret at the token, introspection and revocation endpoints, and a rotation issues a fresh secret
 * with a fresh expiry.
 */
const TTL_SECONDS = 3;

type SecretMethod = 'client_secret_basic' | 'client_secret_post';

interface Created {
  client_id: string;
  client_secret: string;
  client_secret_expires_at: number;
  registration_access_token: string;
}

describe('client secret expiry (RFC 7591 §3.2.1; checklist CAUTH-16)', () => {
  let system: RunningSystem;
  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;

  beforeAll(async () => {
    system = await startSystem({ env: { CLIENT_SECRET_TTL_SECONDS: String(TTL_SECONDS) } });
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  const admin = (path: string, body?: unknown) =>
    fetch(url(path), {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${system.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function create(method: SecretMethod): Promise<Created> {
    const res = await admin('/admin/clients', {
      client_name: `expiring ${method}`,
      grant_types: ['client_credentials'],
      scope: 'read',
      token_endpoint_auth_method: method,
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Created;
  }

  const credentials = (
    method: string,
    id: string,
    secret: string,
  ): { headers: Record<string, string>; form: Record<string, string> } =>
    method === 'client_secret_basic'
      ? { headers: { authorization: basic(id, secret) }, form: {} }
      : { headers: {}, form: { client_id: id, client_secret: secret } };

  /** The parts of an answer a client sees. */
  async function answer(
    path: string,
    method: string,
    id: string,
    secret: string,
    form: Record<string, string>,
  ) {
    const c = credentials(method, id, secret);
    const res = await postForm(url(path), { ...form, ...c.form }, c.headers);
    return {
      status: res.status,
      body: await res.text(),
      headers: Object.fromEntries(
        ['content-type', 'cache-control', 'pragma', 'www-authenticate'].map((h) => [h, res.headers.get(h)]),
      ),
    };
  }

  const tokenRequest = (method: string, id: string, secret: string) =>
    answer('/token', method, id, secret, { grant_type: 'client_credentials', scope: 'read' });

  /** Waits until the instant client_secret_expires_at (seconds) names has passed. */
  async function waitPast(expiresAt: number) {
    const wait = expiresAt * 1000 - Date.now() + 100;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  it.each<SecretMethod>(['client_secret_basic', 'client_secret_post'])(
    'CAUTH-16 (%s): the secret works until client_secret_expires_at, then 401 invalid_client like a wrong secret; rotation restores access',
    async (method) => {
      const registeredAt = Math.floor(Date.now() / 1000);
      const client = await create(method);
      const answeredAt = Math.ceil(Date.now() / 1000);
      // RFC 7591 §3.2.1: the time the secret expires, in seconds since the epoch (0 would be never):
      // TTL after the registration, which happened between the request and its answer.
      expect(client.client_secret_expires_at).toBeGreaterThanOrEqual(registeredAt + TTL_SECONDS);
      expect(client.client_secret_expires_at).toBeLessThanOrEqual(answeredAt + TTL_SECONDS);

      const before = await tokenRequest(method, client.client_id, client.client_secret);
      expect(Date.now()).toBeLessThan(client.client_secret_expires_at * 1000);
      expect(before.status).toBe(200);
      const accessToken = (JSON.parse(before.body) as { access_token: string }).access_token;

      await waitPast(client.client_secret_expires_at);
      // Checklist CAUTH-16: TERR(401, invalid_client), byte for byte what a wrong secret gets.
      const wrong = await tokenRequest(method, client.client_id, `${client.client_secret}x`);
      const expired = await tokenRequest(method, client.client_id, client.client_secret);
      expect(expired).toEqual(wrong);
      expect(expired.status).toBe(401);
      expect(JSON.parse(expired.body)).toMatchObject({ error: 'invalid_client' });
      expect(expired.body).not.toContain('access_token');
      expect(expired.headers['cache-control']).toBe('no-store');
      expect(expired.headers['www-authenticate']).toEqual(
        method === 'client_secret_basic' ? expect.stringMatching(/^Basic realm="/) : null,
      );
      // RFC 7662 §2.1, RFC 7009 §2.1: the same client authentication (checklist CAUTH-21).
      for (const path of ['/introspect', '/revoke']) {
        const refused = await answer(path, method, client.client_id, client.client_secret, {
          token: accessToken,
        });
        expect({ path, status: refused.status, body: JSON.parse(refused.body) as unknown }).toEqual({
          path,
          status: 401,
          body: expect.objectContaining({ error: 'invalid_client' }),
        });
      }

      // A rotation issues a fresh secret with a fresh expiry; the expired one stays refused.
      const rotatedAt = Math.floor(Date.now() / 1000);
      const res = await admin(`/admin/clients/${encodeURIComponent(client.client_id)}/rotate-secret`, {});
      expect(res.status).toBe(200);
      const rotated = (await res.json()) as { client_secret: string; client_secret_expires_at: number };
      expect(rotated.client_secret).not.toBe(client.client_secret);
      expect(rotated.client_secret_expires_at).toBeGreaterThanOrEqual(rotatedAt + TTL_SECONDS);
      expect(rotated.client_secret_expires_at).toBeGreaterThan(client.client_secret_expires_at);
      const after = await tokenRequest(method, client.client_id, rotated.client_secret);
      expect(after.status).toBe(200);
      expect((await tokenRequest(method, client.client_id, client.client_secret)).status).toBe(401);

      // The admin API reads back the new secret's expiry.
      const read = await admin(`/admin/clients/${encodeURIComponent(client.client_id)}`);
      expect(((await read.json()) as { client_secret_expires_at: number }).client_secret_expires_at).toBe(
        rotated.client_secret_expires_at,
      );
    },
    30000,
  );

  it('CAUTH-16: RFC 7591 registration and the RFC 7592 read give the truthful client_secret_expires_at', async () => {
    const out = await system.cli(['clients', 'initial-access-token', '--json']);
    const iat = (JSON.parse(out.trim().split('\n').pop()!) as { initial_access_token: string })
      .initial_access_token;
    const registeredAt = Math.floor(Date.now() / 1000);
    const res = await fetch(url('/register'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` },
      body: JSON.stringify({ client_name: 'dynamic', grant_types: ['client_credentials'], scope: 'read' }),
    });
    const answeredAt = Math.ceil(Date.now() / 1000);
    expect(res.status).toBe(201);
    const registered = (await res.json()) as Created & { registration_client_uri: string };
    expect(registered.client_secret_expires_at).toBeGreaterThanOrEqual(registeredAt + TTL_SECONDS);
    expect(registered.client_secret_expires_at).toBeLessThanOrEqual(answeredAt + TTL_SECONDS);
    const read = await fetch(registered.registration_client_uri, {
      headers: { authorization: `Bearer ${registered.registration_access_token}` },
    });
    expect(read.status).toBe(200);
    const doc = (await read.json()) as Record<string, unknown>;
    expect(doc.client_secret_expires_at).toBe(registered.client_secret_expires_at);
    expect(doc).not.toHaveProperty('client_secret');
  });
});
