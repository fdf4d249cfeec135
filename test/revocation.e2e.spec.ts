import { decodeJwt } from 'jose';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

type Creds = { client_id: string; client_secret: string };

/**
 * Checklist section 11 (REV), RFC 7009, for access tokens, plus ES-03 and the audit API over the
 * same life, against the five real processes. Refresh tokens (REV-02, REV-11, REV-08's "own token"
 * half, REV-07 for a refresh token): test/grant-audit.e2e.spec.ts; REV-13: test/postgres-outage.
 */
describe('token revocation (RFC 7009, checklist REV) and the audit API', () => {
  let system: RunningSystem;
  let c1: Creds;
  let c2: Creds;
  let p1: { client_id: string };
  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;
  const as = (c: Creds) => ({ authorization: basic(c.client_id, c.client_secret) });
  const admin = () => ({ authorization: `Bearer ${system.adminToken}` });

  beforeAll(async () => {
    system = await startSystem();
    c1 = await system.createClient([
      '--name',
      'C1',
      '--grant',
      'client_credentials',
      '--scope',
      'read write',
    ]);
    c2 = await system.createClient(['--name', 'C2', '--grant', 'client_credentials', '--scope', 'read']);
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

  async function issue(client: Creds = c1, scope = 'read'): Promise<string> {
    const res = await postForm(url('/token'), { grant_type: 'client_credentials', scope }, as(client));
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const active = async (token: string, by: Creds = c1) =>
    ((await (await postForm(url('/introspect'), { token }, as(by))).json()) as { active: boolean }).active;
  async function expectOk(res: Response) {
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
  }
  async function expectError(res: Response, status: number, error: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(((await res.json()) as { error: string }).error).toBe(error);
  }

  it('REV-01: without client authentication: 401 invalid_client, and the token is not revoked', async () => {
    const token = await issue();
    await expectError(await postForm(url('/revoke'), { token }), 401, 'invalid_client');
    await expectError(
      await postForm(url('/revoke'), { token }, { authorization: basic(c1.client_id, 'wrong') }),
      401,
      'invalid_client',
    );
    expect(await active(token)).toBe(true);
  });

  it('REV-03/REV-12: the owner revokes its access token: 200, no body, no-store; introspection says inactive', async () => {
    const token = await issue();
    await expectOk(await postForm(url('/revoke'), { token }, as(c1)));
    expect(await active(token)).toBe(false);
  });

  it('REV-04: unknown, garbage and already revoked tokens: 200', async () => {
    const token = await issue();
    await expectOk(await postForm(url('/revoke'), { token }, as(c1)));
    for (const t of [token, 'garbage', 'a.b.c', `${token.slice(0, -6)}AAAAAA`]) {
      await expectOk(await postForm(url('/revoke'), { token: t }, as(c1)));
    }
  });

  it('REV-05: the same revocation twice: 200 both times, one revocation event', async () => {
    const token = await issue();
    await Promise.all([
      postForm(url('/revoke'), { token }, as(c1)).then(expectOk),
      postForm(url('/revoke'), { token }, as(c1)).then(expectOk),
    ]);
    await expectOk(await postForm(url('/revoke'), { token }, as(c1)));
    const history = await (
      await fetch(url(`/admin/tokens/${decodeJwt(token).jti}/history`), { headers: admin() })
    ).json();
    expect((history as { events: { type: string }[] }).events.map((e) => e.type)).toEqual([
      'AccessTokenIssued',
      'AccessTokenRevoked',
    ]);
  });

  it('REV-06: a wrong or unknown token_type_hint: revoked anyway', async () => {
    for (const hint of ['refresh_token', 'foo']) {
      const token = await issue();
      await expectOk(await postForm(url('/revoke'), { token, token_type_hint: hint }, as(c1)));
      expect(await active(token)).toBe(false);
    }
  });

  it("REV-07: another confidential client revoking C1's token: 400 invalid_request, and the token stays active", async () => {
    const token = await issue();
    await expectError(await postForm(url('/revoke'), { token }, as(c2)), 400, 'invalid_request');
    expect(await active(token)).toBe(true);
  });

  it("REV-08: a public client revoking another client's token: 200, and the token stays active", async () => {
    const token = await issue();
    await expectOk(await postForm(url('/revoke'), { token, client_id: p1.client_id }));
    expect(await active(token)).toBe(true);
  });

  it('REV-09/REV-10: a missing token is 400 invalid_request; GET is refused and revokes nothing', async () => {
    await expectError(await postForm(url('/revoke'), {}, as(c1)), 400, 'invalid_request');
    const token = await issue();
    const get = await fetch(url(`/revoke?token=${token}`), { headers: as(c1) });
    expect([400, 405]).toContain(get.status);
    expect(await active(token)).toBe(true);
  });

  it('ES-03: token_state dropped and rebuilt (cli projections rebuild --replace): revoked tokens stay inactive', async () => {
    const revoked = await issue();
    await expectOk(await postForm(url('/revoke'), { token: revoked }, as(c1)));
    const live = await issue();
    const check = await system.cli(['projections', 'rebuild', 'token_state']);
    expect(check).toMatch(/^token_state: EQUAL at position \d+/m);
    const replaced = await system.cli(['projections', 'rebuild', 'token_state', '--replace']);
    expect(replaced).toContain('live rows replaced by the rebuilt ones');
    expect(await active(revoked)).toBe(false);
    expect(await active(live)).toBe(true);
  }, 30000);

  it('audit verify: the hash chain over everything this suite did holds', async () => {
    const out = await system.cli(['audit', 'verify']);
    expect(out).toMatch(/^chain intact: \d+ event\(s\) checked/m);
  }, 20000);

  describe('audit API', () => {
    type Page = {
      events: { type: string; position: number; recordedAt: string; data: Record<string, unknown> }[];
      next: number | null;
    };
    const get = async (path: string) => fetch(url(path), { headers: admin() });

    it('a token history pages by position and filters by time; its state as of an instant replays up to it', async () => {
      const token = await issue(c1, 'read write');
      const { jti } = decodeJwt(token);
      const issuedSeen = new Date();
      await new Promise((r) => setTimeout(r, 50));
      await expectOk(await postForm(url('/revoke'), { token }, as(c1)));

      const first = (await (await get(`/admin/tokens/${jti}/history?limit=1`)).json()) as Page;
      expect(first.events.map((e) => e.type)).toEqual(['AccessTokenIssued']);
      expect(first.next).toBe(first.events[0]!.position);
      const second = (await (
        await get(`/admin/tokens/${jti}/history?limit=1&after=${first.next}`)
      ).json()) as Page;
      expect(second.events.map((e) => e.type)).toEqual(['AccessTokenRevoked']);
      expect(second.next).toBeNull();
      const revokedAt = second.events[0]!.recordedAt;
      const fromRevocation = (await (
        await get(`/admin/tokens/${jti}/history?from=${revokedAt}`)
      ).json()) as Page;
      expect(fromRevocation.events.map((e) => e.type)).toEqual(['AccessTokenRevoked']);
      const toIssue = (await (
        await get(`/admin/tokens/${jti}/history?to=${first.events[0]!.recordedAt}`)
      ).json()) as Page;
      expect(toIssue.events.map((e) => e.type)).toEqual(['AccessTokenIssued']);

      const before = await get(
        `/admin/tokens/${jti}?as_of=${new Date(Date.parse(first.events[0]!.recordedAt) - 1).toISOString()}`,
      );
      expect(before.status).toBe(404);
      expect(((await before.json()) as { error: string }).error).toBe('not_found');
      const between = await (await get(`/admin/tokens/${jti}?as_of=${issuedSeen.toISOString()}`)).json();
      expect(between).toMatchObject({
        jti,
        status: 'active',
        clientId: c1.client_id,
        scope: ['read', 'write'],
      });
      const now = await (await get(`/admin/tokens/${jti}`)).json();
      expect(now).toMatchObject({ jti, status: 'revoked', revokedAt: expect.any(String) });
      const later = await (
        await get(`/admin/tokens/${jti}?as_of=${new Date(Date.now() + 3_600_000).toISOString()}`)
      ).json();
      expect(later).toMatchObject({ jti, status: 'revoked' });
    });

    it("a client's history holds its registration, its tokens and its revocations, without its secret hash", async () => {
      const res = await get(`/admin/clients/${c2.client_id}/history?limit=500`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      expect(page.events[0]!.type).toBe('ClientRegistered');
      expect(page.events[0]!.data.secretHash).toBe('[redacted]');
      expect(JSON.stringify(page)).not.toContain(c2.client_secret);
      expect(
        page.events
          .filter((e) => e.type === 'AccessTokenIssued')
          .every((e) => e.data.clientId === c2.client_id),
      ).toBe(true);
      const positions = page.events.map((e) => e.position);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);

      const asOf = await (
        await get(`/admin/clients/${c2.client_id}?as_of=${page.events[0]!.recordedAt}`)
      ).json();
      expect(asOf).toMatchObject({ client: { clientId: c2.client_id, clientName: 'C2', scope: ['read'] } });
      expect(JSON.stringify(asOf)).not.toContain('secretHash');
      const before = await get(
        `/admin/clients/${c2.client_id}?as_of=${new Date(Date.parse(page.events[0]!.recordedAt) - 1).toISOString()}`,
      );
      expect(before.status).toBe(404);
    });

    it('refuses bad paging and instants with 400 invalid_request, unknown ids with 404, and anyone without the admin token', async () => {
      const token = await issue();
      const { jti } = decodeJwt(token);
      for (const q of [
        'limit=0',
        'limit=501',
        'limit=x',
        'after=-1',
        'from=yesterday',
        'to=2026-13-01T00:00:00Z',
        'limit=1&limit=2',
      ]) {
        await expectError(await get(`/admin/tokens/${jti}/history?${q}`), 400, 'invalid_request');
      }
      await expectError(await get(`/admin/tokens/${jti}?as_of=soon`), 400, 'invalid_request');
      expect((await get('/admin/clients/nobody/history')).status).toBe(404);
      expect((await get('/admin/clients/nobody')).status).toBe(404);
      expect((await fetch(url(`/admin/clients/${c1.client_id}/history`))).status).toBe(401);
      expect((await fetch(url(`/admin/tokens/${jti}`))).status).toBe(401);
    });
  });
});
