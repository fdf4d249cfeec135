import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { pkcePair, seedAuthorizationCode } from './support/grants.js';
import { searchForSecrets } from './support/secret-search.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * The token endpoint's grants over HTTP against the five real processes: authorization_code
 * (codes issued on the grant stream the way the consent service does, test/support/grants.ts),
 * refresh_token, client_credentials; oauth4webapi as a strict client; checklist TOK, PKCE-T,
 * TREQ, RT, CC cases that need the gateway (parsing, client authentication, headers).
 */
interface Registered {
  client_id: string;
  client_secret?: string;
}
interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  error?: string;
  error_description?: string;
}

describe('token endpoint grants, end to end (RFC 6749 §4.1, §4.4, §6; RFC 7636; RFC 8707; RFC 9068)', () => {
  let system: RunningSystem;
  let c1: Registered;
  let c2: Registered;
  let p1: Registered;
  let s1: Registered;
  let graceful: Registered;
  const secretsSeen: string[] = [];
  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;

  async function register(doc: Record<string, unknown>): Promise<Registered> {
    const res = await fetch(url('/admin/clients'), {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Registered;
  }

  const confidential = (name: string, redirect: string, extra: Record<string, unknown> = {}) =>
    register({
      client_name: name,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirect],
      scope: 'read write',
      audience: ['https://api.test', 'https://other.test'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...extra,
    });

  beforeAll(async () => {
    system = await startSystem();
    c1 = await confidential('C1', 'https://c1.test/cb');
    c2 = await confidential('C2', 'https://c2.test/cb');
    graceful = await confidential('C1 grace', 'https://c1.test/cb', {
      refresh_token_reuse_grace_seconds: 30,
    });
    p1 = await register({
      client_name: 'P1',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://p1.test/cb'],
      scope: 'read write',
      token_endpoint_auth_method: 'none',
    });
    s1 = await register({
      client_name: 'S1',
      grant_types: ['client_credentials'],
      scope: 'read',
      default_scope: 'read',
      audience: ['https://api.test'],
    });
    for (const c of [c1, c2, graceful, s1]) secretsSeen.push(c.client_secret!);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  /** A code for `client` (default C1) and its verifier, as if the user had consented. */
  async function codeFor(
    client: Registered = c1,
    o: { redirect?: string; scope?: string[]; resource?: string[] } = {},
  ) {
    const { verifier, challenge } = pkcePair();
    const redirect = o.redirect ?? (client === p1 ? 'https://p1.test/cb' : 'https://c1.test/cb');
    const code = await seedAuthorizationCode(system, {
      clientId: client.client_id,
      deliveredTo: redirect,
      scope: o.scope ?? ['read', 'write'],
      codeChallenge: challenge,
      ...(o.resource ? { resource: o.resource } : {}),
    });
    secretsSeen.push(code, verifier);
    return { code, verifier, redirect };
  }

  async function token(form: Record<string, string> | string, headers: Record<string, string> = {}) {
    const res = await fetch(url('/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
    });
    const body = (await res.json()) as TokenBody;
    if (body.refresh_token) secretsSeen.push(body.refresh_token);
    return { res, body };
  }

  const asC1 = () => ({ authorization: basic(c1.client_id, c1.client_secret!) });

  async function redeem(client: Registered = c1, o: Parameters<typeof codeFor>[1] = {}) {
    const { code, verifier, redirect } = await codeFor(client, o);
    const auth: Record<string, string> = client.client_secret
      ? { authorization: basic(client.client_id, client.client_secret) }
      : {};
    const form: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirect,
      ...(client.client_secret ? {} : { client_id: client.client_id }),
    };
    return { code, verifier, redirect, form, auth, ...(await token(form, auth)) };
  }

  function expectTerr(res: Response, body: TokenBody, status: number, error: string) {
    expect({ status: res.status, error: body.error }).toEqual({ status, error });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(body).not.toHaveProperty('access_token');
    if (body.error_description) expect(body.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
  }

  describe('oauth4webapi drives the flows', () => {
    let as: oauth.AuthorizationServer;
    const insecure = { [oauth.allowInsecureRequests]: true };

    beforeAll(async () => {
      const issuer = new URL(system.issuer);
      as = await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }),
      );
    });

    it('CC-01, CC-02, CC-07: client credentials: a token for the client itself, no refresh token', async () => {
      const client: oauth.Client = { client_id: s1.client_id };
      const res = await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(s1.client_secret!),
        { scope: 'read' },
        insecure,
      );
      const tokens = await oauth.processClientCredentialsResponse(as, client, res);
      expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read', expires_in: 600 });
      expect(tokens.refresh_token).toBeUndefined();
      const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), {
        issuer: system.issuer,
        audience: 'https://api.test',
        typ: 'at+jwt',
        algorithms: ['ES256', 'EdDSA', 'RS256'],
      });
      expect(payload).toMatchObject({ sub: s1.client_id, client_id: s1.client_id, scope: 'read' });
      expect(payload).not.toHaveProperty('username');
    });

    it('TOK-01, RT-01, JWT-01..11: authorization code with PKCE, then refresh, for a confidential client', async () => {
      const { code, verifier, redirect } = await codeFor(c1);
      const client: oauth.Client = { client_id: c1.client_id };
      const auth = oauth.ClientSecretBasic(c1.client_secret!);
      const params = oauth.validateAuthResponse(
        as,
        client,
        new URLSearchParams({ code, iss: system.issuer }),
        oauth.expectNoState,
      );
      const res = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        redirect,
        verifier,
        insecure,
      );
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, res);
      expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read write', expires_in: 600 });
      expect(tokens.refresh_token).toBeDefined();
      secretsSeen.push(tokens.refresh_token!);
      const header = decodeProtectedHeader(tokens.access_token);
      expect(header.typ).toBe('at+jwt');
      const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
      const verify = (t: string) =>
        jwtVerify(t, jwks, { issuer: system.issuer, typ: 'at+jwt', algorithms: ['ES256', 'EdDSA', 'RS256'] });
      const { payload } = await verify(tokens.access_token);
      expect(payload).toMatchObject({
        iss: system.issuer,
        sub: 'sub-alice',
        client_id: c1.client_id,
        scope: 'read write',
      });
      expect(payload.aud).toEqual(['https://api.test', 'https://other.test']);
      expect(payload.exp! - payload.iat!).toBe(600);

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
      );
      secretsSeen.push(refreshed.refresh_token!);
      expect(refreshed.refresh_token).toBeDefined();
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      const second = (await verify(refreshed.access_token)).payload;
      expect(second.sub).toBe('sub-alice');
      expect(second.jti).not.toBe(payload.jti);
    });

    it('RT-03: a public client (none) redeems with PKCE and gets a rotated refresh token', async () => {
      const { code, verifier, redirect } = await codeFor(p1);
      const client: oauth.Client = { client_id: p1.client_id, token_endpoint_auth_method: 'none' };
      const params = oauth.validateAuthResponse(
        as,
        client,
        new URLSearchParams({ code, iss: system.issuer }),
      );
      const tokens = await oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(
          as,
          client,
          oauth.None(),
          params,
          redirect,
          verifier,
          insecure,
        ),
      );
      secretsSeen.push(tokens.refresh_token!);
      const next = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
      );
      secretsSeen.push(next.refresh_token!);
      expect(next.refresh_token).not.toBe(tokens.refresh_token);
      // the rotated-away token is reuse: the family is revoked
      const reuse = await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.None(),
        tokens.refresh_token!,
        insecure,
      );
      await expect(oauth.processRefreshTokenResponse(as, client, reuse)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      const after = await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.None(),
        next.refresh_token!,
        insecure,
      );
      await expect(oauth.processRefreshTokenResponse(as, client, after)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });
  });

  describe('authorization_code over HTTP (TOK, PKCE-T)', () => {
    it('TOK-01: TOK-OK with no-store headers, a refresh token and the granted scope', async () => {
      const { res, body } = await redeem();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'read write' });
      expect(typeof body.refresh_token).toBe('string');
    });

    it('TOK-02, TOK-03: the replay is invalid_grant and the refresh token issued from the code is dead', async () => {
      const first = await redeem();
      const replay = await token(first.form, first.auth);
      expectTerr(replay.res, replay.body, 400, 'invalid_grant');
      const refresh = await token(
        { grant_type: 'refresh_token', refresh_token: first.body.refresh_token! },
        asC1(),
      );
      expectTerr(refresh.res, refresh.body, 400, 'invalid_grant');
    });

    it('TOK-05: a replay with a wrong client secret is 401 invalid_client and revokes nothing', async () => {
      const first = await redeem();
      const wrong = await token(first.form, { authorization: basic(c1.client_id, 'wrong-secret') });
      expectTerr(wrong.res, wrong.body, 401, 'invalid_client');
      const refresh = await token(
        { grant_type: 'refresh_token', refresh_token: first.body.refresh_token! },
        asC1(),
      );
      expect(refresh.res.status).toBe(200);
    });

    it('TOK-06: 20 parallel redemptions of one code over HTTP: exactly one TOK-OK', async () => {
      const { code, verifier, redirect } = await codeFor();
      const form = {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirect,
      };
      const results = await Promise.all(Array.from({ length: 20 }, () => token(form, asC1())));
      expect(results.filter((r) => r.res.status === 200)).toHaveLength(1);
      for (const r of results.filter((x) => x.res.status !== 200))
        expectTerr(r.res, r.body, 400, 'invalid_grant');
    });

    it("TOK-07: C1's code with C2's credentials is invalid_grant and C1 can still redeem it", async () => {
      const { code, verifier, redirect } = await codeFor();
      const form = {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirect,
      };
      const other = await token(form, { authorization: basic(c2.client_id, c2.client_secret!) });
      expectTerr(other.res, other.body, 400, 'invalid_grant');
      expect((await token(form, asC1())).res.status).toBe(200);
    });

    it('TOK-09: a public client redemption with no client_id is 401 invalid_client', async () => {
      const { code, verifier, redirect } = await codeFor(p1);
      const r = await token({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirect,
      });
      expectTerr(r.res, r.body, 401, 'invalid_client');
    });

    it('TOK-13, TOK-14: a malformed code is invalid_grant, a NUL is invalid_request, none is invalid_request', async () => {
      const bad = await token(
        { grant_type: 'authorization_code', code: 'AAAA', code_verifier: 'a'.repeat(43) },
        asC1(),
      );
      expectTerr(bad.res, bad.body, 400, 'invalid_grant');
      const big = await token({ grant_type: 'authorization_code', code: 'a'.repeat(10240) }, asC1());
      expectTerr(big.res, big.body, 400, 'invalid_grant');
      const nul = await token('grant_type=authorization_code&code=abc%00def', asC1());
      expectTerr(nul.res, nul.body, 400, 'invalid_request');
      const none = await token({ grant_type: 'authorization_code', code: '' }, asC1());
      expectTerr(none.res, none.body, 400, 'invalid_request');
    });

    it('TOK-11 (decision 3): redirect_uri may be omitted with PKCE; without PKCE it is invalid_request', async () => {
      const { code, verifier } = await codeFor();
      const ok = await token({ grant_type: 'authorization_code', code, code_verifier: verifier }, asC1());
      expect(ok.res.status).toBe(200);
      const noPkce = await seedAuthorizationCode(system, {
        clientId: c1.client_id,
        deliveredTo: 'https://c1.test/cb',
        scope: ['read'],
        codeChallenge: null,
      });
      secretsSeen.push(noPkce);
      const r = await token({ grant_type: 'authorization_code', code: noPkce }, asC1());
      expectTerr(r.res, r.body, 400, 'invalid_request');
    });

    it('TOK-12: a code redeemed after its TTL + 2 s is invalid_grant', async () => {
      const { verifier, challenge } = pkcePair();
      const code = await seedAuthorizationCode(system, {
        clientId: c1.client_id,
        deliveredTo: 'https://c1.test/cb',
        scope: ['read'],
        codeChallenge: challenge,
        ttlSeconds: 1,
      });
      secretsSeen.push(code, verifier);
      await new Promise((r) => setTimeout(r, 3000));
      const r = await token(
        {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: 'https://c1.test/cb',
        },
        asC1(),
      );
      expectTerr(r.res, r.body, 400, 'invalid_grant');
    });

    it('PKCE-T08: code_verifier sent twice is invalid_request and does not burn the code', async () => {
      const { code, verifier, redirect } = await codeFor();
      const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect });
      body.append('code_verifier', verifier);
      body.append('code_verifier', verifier);
      const r = await token(body.toString(), asC1());
      expectTerr(r.res, r.body, 400, 'invalid_request');
      const ok = await token(
        { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirect },
        asC1(),
      );
      expect(ok.res.status).toBe(200);
    });

    it('PKCE-T03, PKCE-T07: a wrong or malformed verifier is invalid_grant over HTTP', async () => {
      const { code, redirect } = await codeFor();
      for (const v of ['B'.repeat(43), 'a'.repeat(42), `${'a'.repeat(42)}+`]) {
        const r = await token(
          { grant_type: 'authorization_code', code, code_verifier: v, redirect_uri: redirect },
          asC1(),
        );
        expectTerr(r.res, r.body, 400, 'invalid_grant');
      }
    });

    it('PKCE-T09: metadata lists S256 only, and the code and refresh grants', async () => {
      const meta = (await (await fetch(url('/.well-known/oauth-authorization-server'))).json()) as Record<
        string,
        unknown
      >;
      expect(meta.code_challenge_methods_supported).toEqual(['S256']);
      expect(meta.grant_types_supported).toEqual(
        expect.arrayContaining(['authorization_code', 'refresh_token']),
      );
    });
  });

  describe('refresh_token over HTTP (RT)', () => {
    it('RT-02: reuse after rotation: RT1 and RT2 are both invalid_grant', async () => {
      const { body } = await redeem();
      const rt1 = body.refresh_token!;
      const second = await token({ grant_type: 'refresh_token', refresh_token: rt1 }, asC1());
      expect(second.res.status).toBe(200);
      const reuse = await token({ grant_type: 'refresh_token', refresh_token: rt1 }, asC1());
      expectTerr(reuse.res, reuse.body, 400, 'invalid_grant');
      const rt2 = await token(
        { grant_type: 'refresh_token', refresh_token: second.body.refresh_token! },
        asC1(),
      );
      expectTerr(rt2.res, rt2.body, 400, 'invalid_grant');
    });

    it('RT-04: 50 parallel refreshes over HTTP, grace 0: at most one TOK-OK and the winner is revoked too', async () => {
      const { body } = await redeem();
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          token({ grant_type: 'refresh_token', refresh_token: body.refresh_token! }, asC1()),
        ),
      );
      const ok = results.filter((r) => r.res.status === 200);
      expect(ok.length).toBeLessThanOrEqual(1);
      for (const r of results.filter((x) => x.res.status !== 200))
        expectTerr(r.res, r.body, 400, 'invalid_grant');
      for (const r of ok) {
        const after = await token(
          { grant_type: 'refresh_token', refresh_token: r.body.refresh_token! },
          asC1(),
        );
        expectTerr(after.res, after.body, 400, 'invalid_grant');
      }
    });

    it('RT-04 with a grace window (decision 5): the family survives concurrent use and the latest token works', async () => {
      const auth = { authorization: basic(graceful.client_id, graceful.client_secret!) };
      const first = await redeem(graceful);
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token! }, auth),
        ),
      );
      const ok = results.filter((r) => r.res.status === 200);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const r of results.filter((x) => x.res.status !== 200))
        expectTerr(r.res, r.body, 400, 'invalid_grant');
      // the token just rotated may be re-presented inside the window: a new pair, the family lives
      const retry = await token(
        { grant_type: 'refresh_token', refresh_token: first.body.refresh_token! },
        auth,
      );
      expect(retry.res.status).toBe(200);
      const next = await token(
        { grant_type: 'refresh_token', refresh_token: retry.body.refresh_token! },
        auth,
      );
      expect(next.res.status).toBe(200);
    });

    it("RT-05: C1's refresh token with C2's credentials is invalid_grant", async () => {
      const { body } = await redeem();
      const r = await token(
        { grant_type: 'refresh_token', refresh_token: body.refresh_token! },
        { authorization: basic(c2.client_id, c2.client_secret!) },
      );
      expectTerr(r.res, r.body, 400, 'invalid_grant');
    });

    it("RT-07: C1's refresh token with only client_id=C1 is 401 invalid_client", async () => {
      const { body } = await redeem();
      const r = await token({
        grant_type: 'refresh_token',
        refresh_token: body.refresh_token!,
        client_id: c1.client_id,
      });
      expectTerr(r.res, r.body, 401, 'invalid_client');
    });

    it('RT-08, RT-09: the scope narrows for one token, never widens', async () => {
      const { body } = await redeem();
      const narrow = await token(
        { grant_type: 'refresh_token', refresh_token: body.refresh_token!, scope: 'read' },
        asC1(),
      );
      expect(narrow.body.scope).toBe('read');
      const wide = await token(
        { grant_type: 'refresh_token', refresh_token: narrow.body.refresh_token!, scope: 'read write admin' },
        asC1(),
      );
      expectTerr(wide.res, wide.body, 400, 'invalid_scope');
      const back = await token(
        { grant_type: 'refresh_token', refresh_token: narrow.body.refresh_token! },
        asC1(),
      );
      expect(back.body.scope).toBe('read write');
    });

    it('RT-14: garbage, an access token as refresh_token: invalid_grant; missing: invalid_request', async () => {
      const { body } = await redeem();
      for (const rt of ['garbage', body.access_token]) {
        const r = await token({ grant_type: 'refresh_token', refresh_token: rt }, asC1());
        expectTerr(r.res, r.body, 400, 'invalid_grant');
      }
      const missing = await token({ grant_type: 'refresh_token' }, asC1());
      expectTerr(missing.res, missing.body, 400, 'invalid_request');
    });
  });

  describe('resource indicators (RFC 8707)', () => {
    it('several resource parameters are allowed and become the audience; other parameters may not repeat', async () => {
      const { code, verifier, redirect } = await codeFor();
      const form = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirect,
      });
      form.append('resource', 'https://api.test');
      form.append('resource', 'https://other.test');
      const r = await token(form.toString(), asC1());
      expect(r.res.status).toBe(200);
      const { payload } = await jwtVerify(r.body.access_token, createRemoteJWKSet(new URL(url('/jwks'))), {
        issuer: system.issuer,
        typ: 'at+jwt',
      });
      expect(payload.aud).toEqual(['https://api.test', 'https://other.test']);
      const one = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: r.body.refresh_token!,
        resource: 'https://api.test',
      });
      const refreshed = await token(one.toString(), asC1());
      expect(refreshed.res.status).toBe(200);
      expect(decodeAud(refreshed.body.access_token)).toBe('https://api.test');
    });

    it('a resource the client may not address is invalid_target (400)', async () => {
      const { code, verifier, redirect } = await codeFor();
      const r = await token(
        {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: redirect,
          resource: 'https://evil.test',
        },
        asC1(),
      );
      expectTerr(r.res, r.body, 400, 'invalid_target');
      const cc = await token(
        { grant_type: 'client_credentials', scope: 'read', resource: 'https://other.test' },
        { authorization: basic(s1.client_id, s1.client_secret!) },
      );
      expectTerr(cc.res, cc.body, 400, 'invalid_target');
      const ok = await token(
        { grant_type: 'client_credentials', scope: 'read', resource: 'https://api.test' },
        { authorization: basic(s1.client_id, s1.client_secret!) },
      );
      expect(decodeAud(ok.body.access_token)).toBe('https://api.test');
    });
  });

  describe('request format and grant types (TREQ, CC)', () => {
    const asS1 = () => ({ authorization: basic(s1.client_id, s1.client_secret!) });

    it.each(['GET', 'PUT', 'DELETE', 'PATCH'])(
      'TREQ-01, TREQ-02: %s /token is 405 with Allow: POST',
      async (method) => {
        const res = await fetch(url('/token?grant_type=client_credentials'), { method, headers: asS1() });
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe('POST');
        expect(await res.text()).not.toContain('access_token');
      },
    );

    it.each([
      ['application/json (TREQ-03)', 'application/json', '{"grant_type":"client_credentials"}'],
      ['text/plain (TREQ-04)', 'text/plain', 'grant_type=client_credentials'],
      [
        'multipart (TREQ-04, decision 7)',
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--',
      ],
      ['an empty form (TREQ-06)', 'application/x-www-form-urlencoded', ''],
    ])('%s is invalid_request', async (_n, contentType, body) => {
      const res = await fetch(url('/token'), {
        method: 'POST',
        headers: { ...asS1(), 'content-type': contentType },
        body,
      });
      expectTerr(res, (await res.json()) as TokenBody, 400, 'invalid_request');
    });

    it('TREQ-04: no Content-Type is invalid_request', async () => {
      const res = await fetch(url('/token'), {
        method: 'POST',
        headers: asS1(),
        body: new Uint8Array(Buffer.from('grant_type=client_credentials')),
      });
      expectTerr(res, (await res.json()) as TokenBody, 400, 'invalid_request');
    });

    it.each(['application/x-www-form-urlencoded; charset=UTF-8', 'APPLICATION/X-WWW-FORM-URLENCODED'])(
      'TREQ-05: %s is accepted',
      async (contentType) => {
        const res = await postForm(
          url('/token'),
          { grant_type: 'client_credentials' },
          { ...asS1(), 'content-type': contentType },
        );
        expect(res.status).toBe(200);
      },
    );

    it('TREQ-07: a missing grant_type is invalid_request', async () => {
      const r = await token({ scope: 'read' }, asS1());
      expectTerr(r.res, r.body, 400, 'invalid_request');
    });

    it.each([
      'password',
      'implicit',
      'token',
      'foo',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'Authorization_Code',
    ])('TREQ-08, TREQ-09: grant_type=%s is unsupported_grant_type', async (grantType) => {
      const r = await token({ grant_type: grantType, username: 'alice', password: 'x' }, asS1());
      expectTerr(r.res, r.body, 400, 'unsupported_grant_type');
    });

    it('TREQ-10, CC-04: C1 asking for client_credentials is unauthorized_client', async () => {
      const r = await token({ grant_type: 'client_credentials', scope: 'read' }, asC1());
      expectTerr(r.res, r.body, 400, 'unauthorized_client');
    });

    it('a client credentials client asking for the code or refresh grant is unauthorized_client', async () => {
      const { code } = await codeFor();
      const r = await token({ grant_type: 'authorization_code', code }, asS1());
      expectTerr(r.res, r.body, 400, 'unauthorized_client');
      const rt = await token({ grant_type: 'refresh_token', refresh_token: code }, asS1());
      expectTerr(rt.res, rt.body, 400, 'unauthorized_client');
    });

    it('CC-03 (decision 9): a public client asking for client_credentials is unauthorized_client', async () => {
      const r = await token({ grant_type: 'client_credentials', client_id: p1.client_id });
      expectTerr(r.res, r.body, 400, 'unauthorized_client');
    });

    it('CC-05: scope admin, or an unknown scope, is invalid_scope', async () => {
      for (const scope of ['admin', 'nope', 'read admin']) {
        const r = await token({ grant_type: 'client_credentials', scope }, asS1());
        expectTerr(r.res, r.body, 400, 'invalid_scope');
      }
    });

    it('CC-06: no client authentication is 401 invalid_client', async () => {
      const r = await token({ grant_type: 'client_credentials', scope: 'read' });
      expectTerr(r.res, r.body, 401, 'invalid_client');
    });

    it('CC-08, TREQ-12: an omitted or empty scope is the default scope', async () => {
      const forms: Record<string, string>[] = [
        { grant_type: 'client_credentials' },
        { grant_type: 'client_credentials', scope: '' },
      ];
      for (const form of forms) {
        const r = await token(form, asS1());
        expect(r.res.status).toBe(200);
        expect(r.body.scope).toBe('read');
      }
    });

    it.each(['grant_type', 'code', 'scope', 'client_id', 'refresh_token'])(
      'TREQ-11: %s given twice is invalid_request',
      async (name) => {
        const form = new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' });
        form.set(name, name === 'grant_type' ? 'client_credentials' : 'x');
        form.append(name, name === 'grant_type' ? 'client_credentials' : 'x');
        const r = await token(form.toString(), asS1());
        expectTerr(r.res, r.body, 400, 'invalid_request');
      },
    );

    it('TREQ-13: an unknown parameter is ignored', async () => {
      const r = await token({ grant_type: 'client_credentials', scope: 'read', foo: 'bar' }, asS1());
      expect(r.res.status).toBe(200);
    });

    it("TREQ-15 (decision 15): CORS only for the origins of public clients' redirect URIs", async () => {
      const preflight = (path: string, origin: string) =>
        fetch(url(path), {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      for (const path of ['/token', '/revoke', '/.well-known/oauth-authorization-server']) {
        const ok = await preflight(path, 'https://p1.test');
        expect(ok.status).toBe(204);
        expect(ok.headers.get('access-control-allow-origin')).toBe('https://p1.test');
        for (const origin of ['https://evil.test', 'https://c1.test', 'null']) {
          const refused = await preflight(path, origin);
          expect(refused.headers.get('access-control-allow-origin')).toBeNull();
        }
      }
      const { code, verifier, redirect } = await codeFor(p1);
      const res = await postForm(
        url('/token'),
        {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: redirect,
          client_id: p1.client_id,
        },
        { origin: 'https://p1.test' },
      );
      expect(res.status).toBe(200);
      secretsSeen.push(((await res.json()) as TokenBody).refresh_token!);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://p1.test');
      expect(res.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
      const evil = await postForm(
        url('/token'),
        { grant_type: 'client_credentials' },
        { ...asS1(), origin: 'https://evil.test' },
      );
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('TREQ-16: issued access and refresh tokens hold only VSCHAR characters', async () => {
      const { body } = await redeem();
      expect(body.access_token).toMatch(/^[\x20-\x7e]+$/);
      expect(body.refresh_token).toMatch(/^[\x20-\x7e]+$/);
    });

    it('INP-02, INP-11: a 1 MB body is 413, too many parameters 400 (413 past the body limit), as OAuth JSON', async () => {
      const big = await fetch(url('/token'), {
        method: 'POST',
        headers: { ...asS1(), 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&x=${'a'.repeat(1024 * 1024)}`,
      });
      expectTerr(big, (await big.json()) as TokenBody, 413, 'invalid_request');
      // 10,000 pairs exceed the body limit as well (413); 1,000 stay under it and hit the parameter limit
      const pairs = (n: number) => Array.from({ length: n }, (_, i) => `a${i}=b`).join('&');
      const tenThousand = await token(`grant_type=client_credentials&${pairs(10000)}`, asS1());
      expectTerr(tenThousand.res, tenThousand.body, 413, 'invalid_request');
      const many = await token(`grant_type=client_credentials&${pairs(1000)}`, asS1());
      expectTerr(many.res, many.body, 400, 'invalid_request');
      expect((await token({ grant_type: 'client_credentials' }, asS1())).res.status).toBe(200);
    });
  });

  it('STORE-03: no code, code_verifier or refresh token appears in any table or JetStream message', async () => {
    const grantSecrets = secretsSeen.filter((s) => s.includes('.') || s.length === 43);
    expect(grantSecrets.length).toBeGreaterThan(10);
    const search = await searchForSecrets(system, grantSecrets, (s) => [s, s.split('.').pop()!], 4);
    expect(search.tablesSearched).toBeGreaterThan(0);
    expect(search.messagesSearched).toBeGreaterThan(0);
    expect(search.hits).toEqual([]);
  }, 60000);
});

function decodeAud(jwt: string): unknown {
  return (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { aud: unknown }).aud;
}
