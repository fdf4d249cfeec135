import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { mintGrantToken } from '#lib/domain-grant';
import { createEventStoreDataSource, PgEventStore } from '#lib/event-store';
import type { Keyset } from '#lib/keysets';
import {
  activeKey,
  evolveKeyring,
  initialKeyringState,
  SIGNING_KEYRING_STREAM,
  Signer,
} from '#lib/signing-keys';
import { ScriptedGrant, scriptGrantLife } from '../libs/domain-token/src/testing/grant-life.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';
import { chromiumPath } from './support/chromium.js';

type Creds = { client_id: string; client_secret: string };
const ARTIFACTS = resolve(process.cwd(), 'test-artifacts');

/**
 * Issue 6 for grants, refresh tokens and users, against the five real processes. Grants are
 * scripted as the consent and token services write them (the deciders' events appended to the
 * system's own database, the access tokens signed with the system's own active key), so that
 * introspection, revocation and the audit API are checked on lives the code flow will produce:
 * checklist INT-08, INT-09, INT-07/INT-16/ES-01 for grant revocation, REV-02, REV-04..REV-08,
 * REV-11 for refresh tokens, RT-02's introspection half, ES-03, and the grant/user audit API
 * with the grant timeline in headless Chromium.
 */
describe('grants and refresh tokens: introspection, revocation, audit (issue 6)', () => {
  let system: RunningSystem;
  let ds: DataSource;
  let store: PgEventStore;
  let signer: Signer;
  let c1: Creds;
  let c2: Creds;
  let p1: { client_id: string };
  let p2: { client_id: string };
  let secretHashKeys: Keyset;
  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;
  const as = (c: Creds) => ({ authorization: basic(c.client_id, c.client_secret) });
  const admin = () => ({ authorization: `Bearer ${system.adminToken}` });

  beforeAll(async () => {
    system = await startSystem();
    const codeClient = (name: string, extra: string[] = []) =>
      system.createClient([
        '--name',
        name,
        '--grant',
        'authorization_code',
        '--grant',
        'refresh_token',
        '--scope',
        'read write',
        '--redirect-uri',
        `https://${name.toLowerCase()}.test/cb`,
        ...extra,
      ]);
    c1 = await codeClient('C1');
    c2 = await codeClient('C2');
    p1 = await codeClient('P1', ['--auth-method', 'none']);
    p2 = await codeClient('P2', ['--auth-method', 'none']);
    ds = createEventStoreDataSource(system.database.url, { poolSize: 2 });
    await ds.initialize();
    store = new PgEventStore(ds);
    secretHashKeys = system.secretHashKeys;
    signer = new Signer(Buffer.from(system.env.KEY_ENCRYPTION_KEY!, 'base64url'));
  }, 90000);

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await system?.stop();
  });

  const owner = (clientId: string, sub = 'sub-alice', username = 'alice') => ({
    clientId,
    sub,
    username,
    scope: ['read', 'write'],
    aud: [clientId],
    redirectUri: 'https://c1.test/cb',
  });
  /** consent, code, redemption (AT1, RT1), `rotations` rotations. */
  async function grantOf(clientId: string, rotations = 1, sub?: string): Promise<ScriptedGrant> {
    const grant = new ScriptedGrant(store, secretHashKeys, owner(clientId, sub));
    await grant.consent();
    await grant.issueCode();
    await grant.redeem();
    for (let i = 0; i < rotations; i++) await grant.rotate();
    return grant;
  }
  const current = (g: ScriptedGrant) => g.refreshTokens[g.refreshTokens.length - 1]!;

  /** The access tokens of a scripted grant, signed as the token service signs them. */
  async function jwts(grant: ScriptedGrant): Promise<string[]> {
    const keyring = (await store.readStream(SIGNING_KEYRING_STREAM)).reduce(
      evolveKeyring,
      initialKeyringState(),
    );
    const key = activeKey(keyring)!;
    return Promise.all(
      grant.accessTokens.map((at) =>
        signer.sign(key, {
          iss: system.issuer,
          sub: grant.owner.sub,
          aud: grant.owner.aud,
          exp: at.exp,
          iat: at.iat,
          jti: at.jti,
          client_id: grant.owner.clientId,
          scope: grant.owner.scope.join(' '),
        }),
      ),
    );
  }

  const introspect = async (token: string, by: Creds | { client_id: string } = c1, hint?: string) => {
    const res = await postForm(
      url('/introspect'),
      { token, ...(hint ? { token_type_hint: hint } : {}) },
      'client_secret' in by ? as(by) : {},
    );
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const revoke = (token: string, by: Creds | { client_id: string }, hint?: string) =>
    postForm(
      url('/revoke'),
      {
        token,
        ...(hint ? { token_type_hint: hint } : {}),
        ...('client_secret' in by ? {} : { client_id: by.client_id }),
      },
      'client_secret' in by ? as(by) : {},
    );
  async function expectOk(res: Response) {
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
  }

  describe('introspection of refresh tokens and of access tokens from grants', () => {
    it('INT-09/INT-04/INT-11/INT-12: the owning client introspects its active refresh token: active with metadata; any hint gives the same; a public client may not', async () => {
      const grant = await grantOf(c1.client_id);
      const body = await introspect(current(grant));
      expect(body).toMatchObject({
        active: true,
        client_id: c1.client_id,
        scope: 'read write',
        sub: 'sub-alice',
        username: 'alice',
        token_type: 'refresh_token',
        iss: system.issuer,
      });
      expect(body.exp as number).toBeGreaterThan(Date.now() / 1000);
      // INT-04 for a refresh token.
      const res = await postForm(url('/introspect'), { token: current(grant) }, as(c1));
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      // INT-11 / decision 11: a public client may not introspect, not even its own refresh token.
      const mine = await grantOf(p1.client_id, 0);
      const pub = await postForm(url('/introspect'), { token: current(mine), client_id: p1.client_id });
      expect(pub.status).toBe(401);
      expect(await pub.text()).not.toContain('active');
      // INT-12: the hint is honoured but not trusted.
      expect(await introspect(current(grant), c1, 'access_token')).toEqual(body);
      expect(await introspect(current(grant), c1, 'foo')).toEqual(body);
    });

    it('INT-09 / decision 11: another confidential client gets exactly {"active":false} for C1\'s refresh token', async () => {
      const grant = await grantOf(c1.client_id);
      const res = await postForm(url('/introspect'), { token: current(grant) }, as(c2));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('{"active":false}');
    });

    it('INT-08: a rotated (consumed) refresh token is inactive; an unknown one of the right shape too (INT-05)', async () => {
      const grant = await grantOf(c1.client_id, 2);
      expect(await introspect(grant.refreshTokens[0]!)).toEqual({ active: false });
      expect(await introspect(grant.refreshTokens[1]!)).toEqual({ active: false });
      expect((await introspect(grant.refreshTokens[2]!)).active).toBe(true);
      expect(await introspect(mintGrantToken(grant.grantId))).toEqual({ active: false });
      expect(await introspect(grant.code)).toEqual({ active: false });
    });

    it('INT-15 / decision 13: introspection is not limited: 300 random refresh-token-shaped tokens from one client, never a 429', async () => {
      const statuses: number[] = [];
      for (let batch = 0; batch < 15; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const res = await postForm(url('/introspect'), { token: mintGrantToken('A'.repeat(22)) }, as(c2));
            statuses.push(res.status);
            return res.text();
          }),
        );
        expect(new Set(answers)).toEqual(new Set(['{"active":false}']));
      }
      expect(statuses).toHaveLength(300);
      expect(statuses.every((s) => s === 200)).toBe(true);
    }, 60000);

    it('an access token of a user grant names the user (RFC 7662 username)', async () => {
      const grant = await grantOf(c1.client_id, 0);
      const [at] = await jwts(grant);
      expect(await introspect(at!)).toMatchObject({
        active: true,
        sub: 'sub-alice',
        username: 'alice',
        client_id: c1.client_id,
      });
    });

    it('RT-02 (introspection half) / ES-01: once reuse revoked the grant, every access token of it is inactive at once', async () => {
      const grant = await scriptGrantLife(new ScriptedGrant(store, secretHashKeys, owner(c1.client_id)), 0);
      expect(grant.accessTokens).toHaveLength(4);
      for (const at of await jwts(grant)) expect(await introspect(at)).toEqual({ active: false });
      for (const rt of grant.refreshTokens) expect(await introspect(rt)).toEqual({ active: false });
    });
  });

  describe('revocation of refresh tokens (RFC 7009)', () => {
    it('REV-02/REV-12/INT-07/INT-16/ES-01: C1 revokes its refresh token: 200, no body, no-store; the RT and every AT of the grant are inactive at once', async () => {
      const grant = await grantOf(c1.client_id, 1);
      const ats = await jwts(grant);
      for (const at of ats) expect((await introspect(at)).active).toBe(true);
      await expectOk(await revoke(current(grant), c1));
      expect(await introspect(current(grant))).toEqual({ active: false });
      for (const at of ats) expect(await introspect(at)).toEqual({ active: false });
      const asOf = (await (
        await fetch(url(`/admin/grants/${grant.grantId}`), { headers: admin() })
      ).json()) as {
        status: string;
        revocationReason: string;
      };
      expect(asOf).toMatchObject({ status: 'revoked', revocationReason: 'revocation_request' });
    });

    it('REV-11: revoking RT1 after it was rotated into RT2 revokes RT2 too', async () => {
      const grant = await grantOf(c1.client_id, 1);
      expect((await introspect(grant.refreshTokens[1]!)).active).toBe(true);
      await expectOk(await revoke(grant.refreshTokens[0]!, c1));
      expect(await introspect(grant.refreshTokens[1]!)).toEqual({ active: false });
    });

    it('REV-06: a wrong hint (access_token) and an unknown hint still revoke the refresh token', async () => {
      for (const hint of ['access_token', 'foo']) {
        const grant = await grantOf(c1.client_id, 0);
        await expectOk(await revoke(current(grant), c1, hint));
        expect(await introspect(current(grant))).toEqual({ active: false });
      }
    });

    it('REV-04/REV-05: twice, an unknown token of the right shape, a token of an unknown grant: 200 each time', async () => {
      const grant = await grantOf(c1.client_id, 0);
      await expectOk(await revoke(current(grant), c1));
      await expectOk(await revoke(current(grant), c1));
      await expectOk(await revoke(mintGrantToken(grant.grantId), c1));
      await expectOk(await revoke(mintGrantToken('A'.repeat(22)), c1));
    });

    it("REV-07 / decision 10: C2 revoking C1's refresh token: 400 invalid_request, and the token stays valid", async () => {
      const grant = await grantOf(c1.client_id, 0);
      const res = await revoke(current(grant), c2);
      expect(res.status).toBe(400);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
      expect((await introspect(current(grant))).active).toBe(true);
    });

    it("REV-08: P1 revokes its own refresh token (200, revoked); P2 revoking P1's: 200 and not revoked", async () => {
      const mine = await grantOf(p1.client_id, 0);
      const state = async (g: ScriptedGrant) =>
        (
          (await (await fetch(url(`/admin/grants/${g.grantId}`), { headers: admin() })).json()) as {
            status: string;
          }
        ).status;
      await expectOk(await revoke(current(mine), p2));
      expect(await state(mine)).toBe('active');
      await expectOk(await revoke(current(mine), p1));
      expect(await state(mine)).toBe('revoked');
    });

    it('REV-01: without client authentication: 401 invalid_client, and the refresh token is not revoked', async () => {
      const grant = await grantOf(c1.client_id, 0);
      const res = await postForm(url('/revoke'), { token: current(grant) });
      expect(res.status).toBe(401);
      expect((await introspect(current(grant))).active).toBe(true);
    });
  });

  describe('audit API over HTTP: a scripted grant life (consent, code, three rotations, a reuse and revocation)', () => {
    let life: ScriptedGrant;
    const LIFE = [
      'ConsentGranted',
      'AuthorizationCodeIssued',
      'AuthorizationCodeRedeemed',
      'RefreshTokenIssued',
      'AccessTokenIssued',
      ...Array(3).fill(['RefreshTokenRotated', 'AccessTokenIssued']).flat(),
      'RefreshTokenReuseDetected',
      'GrantRevoked',
    ];
    const get = async (path: string, headers: Record<string, string> = admin()) => {
      const res = await fetch(url(path), { headers });
      return {
        status: res.status,
        headers: res.headers,
        body: (await res.json()) as Record<string, unknown>,
      };
    };
    type Page = {
      events: {
        type: string;
        position: number;
        metadata: { actor?: string };
        data: { grantId?: string; sub?: string };
      }[];
      next: number | null;
    };

    beforeAll(async () => {
      life = await scriptGrantLife(
        new ScriptedGrant(store, secretHashKeys, owner(c2.client_id, 'sub-carol', 'carol')),
        20,
      );
    }, 30000);

    it("GET /admin/grants/{id}/history: the grant's life in order, paged, filtered by time; admin only", async () => {
      const whole = await get(`/admin/grants/${life.grantId}/history`);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('cache-control')).toBe('no-store');
      const page = whole.body as unknown as Page;
      expect(page.events.map((e) => e.type)).toEqual(LIFE);
      expect(page.events.at(-1)!.metadata.actor).toBe(`client:${c2.client_id}`);
      const paged: Page['events'] = [];
      let after: number | null = 0;
      while (after !== null) {
        const p = (await get(`/admin/grants/${life.grantId}/history?limit=5&after=${after}`))
          .body as unknown as Page;
        paged.push(...p.events);
        after = p.next;
      }
      expect(paged).toEqual(page.events);
      const rotations = life.steps.filter((s) => s.name === 'refresh token rotated');
      const bounded = (
        await get(
          `/admin/grants/${life.grantId}/history?from=${rotations[0]!.at.toISOString()}&to=${rotations[2]!.at.toISOString()}`,
        )
      ).body as unknown as Page;
      expect(bounded.events.map((e) => e.type)).toEqual(
        Array(3).fill(['RefreshTokenRotated', 'AccessTokenIssued']).flat(),
      );
      expect((await get(`/admin/grants/${life.grantId}/history`, {})).status).toBe(401);
      expect((await get(`/admin/grants/not-a-grant/history`)).status).toBe(400);
      expect((await get(`/admin/grants/${'A'.repeat(22)}/history`)).status).toBe(404);
      expect((await get(`/admin/grants/${life.grantId}/history?from=yesterday`)).status).toBe(400);
    });

    it('GET /admin/grants/{id}?as_of=: the grant replayed up to each instant of its life', async () => {
      const at = (name: string, n = 0) => life.steps.filter((s) => s.name === name)[n]!.at.toISOString();
      const asOf = async (instant: string) =>
        (await get(`/admin/grants/${life.grantId}?as_of=${instant}`)).body;
      expect((await get(`/admin/grants/${life.grantId}?as_of=${at('consent')}`)).status).toBe(404);
      expect(await asOf(at('code issued'))).toMatchObject({ status: 'code_issued', accessTokenJtis: [] });
      expect(await asOf(at('code redeemed'))).toMatchObject({ status: 'active', refresh: { generation: 1 } });
      expect(await asOf(at('refresh token rotated', 1))).toMatchObject({
        status: 'active',
        refresh: { generation: 3 },
      });
      expect(await asOf(at('refresh token rotated', 2))).toMatchObject({
        status: 'active',
        refresh: { generation: 4 },
      });
      const end = await asOf(at('refresh token reused'));
      expect(end).toMatchObject({
        status: 'revoked',
        revocationReason: 'refresh_token_reuse',
        clientId: c2.client_id,
        sub: 'sub-carol',
        username: 'carol',
      });
      expect(end.accessTokenJtis).toEqual(life.accessTokens.map((a) => a.jti));
      // No hash is shown: no member of the view is one (by name; its values hold random ids, where
      // a search for the word could match by chance).
      const members: string[] = [];
      JSON.stringify(end, (key: string, value: unknown) => (members.push(key), value));
      expect(members.filter((m) => /hash/i.test(m))).toEqual([]);
      expect((await get(`/admin/grants/${life.grantId}`)).body).toMatchObject({ status: 'revoked' });
      expect((await get(`/admin/grants/${life.grantId}?as_of=soon`)).status).toBe(400);
      // An access token of the grant, as of before and after the reuse revoked its grant.
      const jti = life.accessTokens[1]!.jti;
      const before = at('refresh token rotated', 2);
      expect((await get(`/admin/tokens/${jti}?as_of=${before}`)).body).toMatchObject({ status: 'active' });
      const after = (await get(`/admin/tokens/${jti}?as_of=${at('refresh token reused')}`)).body;
      expect(after).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
      expect(after.position).toBe(life.steps.at(-1)!.position);
    });

    it("GET /admin/users/{sub}/history: every grant and token of the subject, and only the subject's", async () => {
      const other = await grantOf(c1.client_id, 0, 'sub-carol');
      await grantOf(c1.client_id, 0, 'sub-dave');
      const res = await get(`/admin/users/sub-carol/history?limit=500`);
      expect(res.status).toBe(200);
      const page = res.body as unknown as Page;
      const grants = new Set(page.events.map((e) => e.data.grantId).filter(Boolean));
      expect(grants).toEqual(new Set([life.grantId, other.grantId]));
      expect(page.events.some((e) => e.type === 'RefreshTokenReuseDetected')).toBe(true);
      expect(page.events.every((e) => e.data.sub === undefined || e.data.sub === 'sub-carol')).toBe(true);
      expect((await get(`/admin/users/nobody-at-all/history`)).status).toBe(404);
      expect((await get(`/admin/users/sub-carol/history`, {})).status).toBe(401);
    });

    it('ES-03: projections rebuilt (cli projections rebuild) equal the live ones, and revoked stays revoked after --replace', async () => {
      const out = await system.cli(['projections', 'rebuild']);
      expect(out).toMatch(/token_state: EQUAL/);
      expect(out).toMatch(/grant_state: EQUAL/);
      // Both read models dropped and rebuilt from position 0: RT-02 and REV-02 results hold.
      expect(await system.cli(['projections', 'rebuild', '--replace'])).toMatch(/replaced/);
      for (const at of await jwts(life)) expect(await introspect(at, c2)).toEqual({ active: false });
      const revoked = await grantOf(c1.client_id, 1);
      await expectOk(await revoke(current(revoked), c1));
      await system.cli(['projections', 'rebuild', '--replace']);
      for (const at of await jwts(revoked)) expect(await introspect(at)).toEqual({ active: false });
    }, 60000);

    it('the grant timeline page in headless Chromium: consent, code, tokens, rotations, reuse, revocation, with who, when and which client', async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const browser: Browser = await chromium.launch({
        executablePath: chromiumPath(),
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const context = await browser.newContext({
          extraHTTPHeaders: admin(),
          viewport: { width: 1000, height: 800 },
        });
        const page = await context.newPage();
        const violations: string[] = [];
        page.on('console', (m) => {
          if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
        });
        const response = await page.goto(url(`/admin/audit/grants/${life.grantId}`));
        expect(response!.status()).toBe(200);
        expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
        await page.screenshot({ path: resolve(ARTIFACTS, 'audit-grant-timeline.png'), fullPage: true });
        expect(await page.locator('h1').textContent()).toBe(`Grant ${life.grantId}`);
        expect(await page.locator('ol > li .what').allTextContents()).toEqual([
          'Consent granted',
          'Authorization code issued',
          'Authorization code redeemed',
          'Refresh token issued',
          'Access token issued',
          ...Array(3).fill(['Refresh token rotated', 'Access token issued']).flat(),
          'Refresh token reuse detected',
          'Grant revoked',
        ]);
        const metas = await page.locator('ol > li .meta').allTextContents();
        expect(metas.every((m) => m.includes(`client ${c2.client_id}`))).toBe(true);
        expect(metas[1]).toContain('by user:sub-carol');
        expect(metas.at(-1)).toContain(`by client:${c2.client_id}`);
        expect(await page.locator('dd').first().textContent()).toBe('revoked (refresh_token_reuse)');
        expect(await page.locator('body').textContent()).toContain('carol (sub-carol)');
        const rail = await page.evaluate("getComputedStyle(document.querySelector('ol')).borderLeftWidth");
        expect(rail).toBe('3px');
        expect(violations).toEqual([]);
        await context.close();
      } finally {
        await browser.close();
      }
      expect((await fetch(url(`/admin/audit/grants/${life.grantId}`))).status).toBe(401);
    }, 60000);
  });
});
