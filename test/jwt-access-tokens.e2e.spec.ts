import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { PRIVATE_JWK_MEMBERS } from '#lib/signing-keys';
import { activePrivateKey as activeKeyOf } from './support/forge.js';
import { createHmac } from 'node:crypto';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

type Creds = { client_id: string; client_secret: string };

/**
 * Checklist section 9 (JWT access tokens, RFC 9068) and the static JWKS cases of section 13,
 * with client_credentials tokens (S1) against the five real processes. The key-rotation cases
 * (JWKS-04, JWKS-05) are in signing-key-rotation.e2e.spec.ts.
 * Not here: JWT-08 (a code-flow `sub` across refreshes) and JWT-15 (an access token as
 * `refresh_token` or `code`): those grants are issue 5's other half.
 */
describe('JWT access tokens (RFC 9068, checklist JWT) and the JWKS (RFC 7517, checklist JWKS)', () => {
  let system: RunningSystem;
  let s1: Creds;
  let other: Creds;
  const API = 'https://api.test';
  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;
  const as = (c: Creds) => ({ authorization: basic(c.client_id, c.client_secret) });

  beforeAll(async () => {
    system = await startSystem({ env: { ACCESS_TOKEN_TTL_SECONDS: '10' } });
    s1 = await system.createClient([
      '--name',
      'S1',
      '--grant',
      'client_credentials',
      '--scope',
      'read write',
      '--audience',
      API,
    ]);
    other = await system.createClient(['--name', 'S2', '--grant', 'client_credentials', '--scope', 'read']);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  async function issue(client: Creds = s1, scope = 'read write') {
    const res = await postForm(url('/token'), { grant_type: 'client_credentials', scope }, as(client));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; expires_in: number; scope: string };
    return { ...body, date: res.headers.get('date')! };
  }

  async function jwks(): Promise<{ res: Response; body: JSONWebKeySet }> {
    const meta = (await (await fetch(url('/.well-known/oauth-authorization-server'))).json()) as {
      jwks_uri: string;
    };
    const res = await fetch(meta.jwks_uri);
    return { res, body: (await res.clone().json()) as JSONWebKeySet };
  }

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const res = await postForm(url('/introspect'), { token }, as(s1));
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  /** The active private key, opened from its event with the KEK (grey-box: to forge with the real key). */
  const activePrivateKey = () => activeKeyOf(system);

  it('JWT-01: the header typ is at+jwt', async () => {
    expect(decodeProtectedHeader((await issue()).access_token).typ).toBe('at+jwt');
  });

  it('JWT-02: the header alg is asymmetric (ES256 by default), never none or HS*', async () => {
    const { alg } = decodeProtectedHeader((await issue()).access_token);
    expect(alg).toBe('ES256');
    expect(alg).not.toMatch(/^(none|HS)/i);
  });

  it('JWT-03: the header kid names a key of jwks_uri at issuance', async () => {
    const { access_token } = await issue();
    const { kid } = decodeProtectedHeader(access_token);
    const { body } = await jwks();
    expect(typeof kid).toBe('string');
    expect(body.keys.map((k) => k.kid)).toContain(kid);
  });

  it('JWT-04: iss, exp, aud, sub, client_id, iat and jti are all present', async () => {
    const claims = decodeJwt((await issue()).access_token);
    for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) {
      expect(claims).toHaveProperty(claim);
    }
  });

  it('JWT-05: iss equals the metadata issuer exactly', async () => {
    const meta = (await (await fetch(url('/.well-known/oauth-authorization-server'))).json()) as {
      issuer: string;
    };
    expect(decodeJwt((await issue()).access_token).iss).toBe(meta.issuer);
  });

  it('JWT-06: exp − iat equals expires_in (≤ the configured maximum); iat is within 5 s of the Date header', async () => {
    const { access_token, expires_in, date } = await issue();
    const { exp, iat } = decodeJwt(access_token);
    expect(Math.abs(exp! - iat! - expires_in)).toBeLessThanOrEqual(2);
    expect(expires_in).toBe(10);
    expect(exp! - iat!).toBeLessThanOrEqual(900);
    expect(Math.abs(iat! - Date.parse(date) / 1000)).toBeLessThanOrEqual(5);
  });

  it("JWT-07: aud is the client's registered resource; another client's tokens name another audience", async () => {
    expect(decodeJwt((await issue()).access_token).aud).toBe(API);
    expect(decodeJwt((await issue(other, 'read')).access_token).aud).not.toBe(API);
  });

  it('JWT-09: client_id is the requesting client (and sub names the client for client_credentials)', async () => {
    const claims = decodeJwt((await issue()).access_token);
    expect(claims.client_id).toBe(s1.client_id);
    expect(claims.sub).toBe(s1.client_id);
    expect(decodeJwt((await issue(other, 'read')).access_token).client_id).toBe(other.client_id);
  });

  it('JWT-10: 1,000 issued tokens carry 1,000 distinct jti', async () => {
    const jtis = new Set<string>();
    for (let batch = 0; batch < 100; batch++) {
      const tokens = await Promise.all(Array.from({ length: 10 }, () => issue()));
      for (const t of tokens) jtis.add(decodeJwt(t.access_token).jti!);
    }
    expect(jtis.size).toBe(1000);
  }, 180000);

  it('JWT-11: the scope claim is a space-delimited string equal to the response scope, narrowing included', async () => {
    const full = await issue(s1, 'write read');
    expect(decodeJwt(full.access_token).scope).toBe(full.scope);
    const narrow = await issue(s1, 'read');
    expect(narrow.scope).toBe('read');
    expect(decodeJwt(narrow.access_token).scope).toBe('read');
  });

  it('JWT-12: the payload holds only the documented claims, no secret and no personal data', async () => {
    const { access_token } = await issue();
    const claims = decodeJwt(access_token);
    // Every claim and every value accounted for: nothing else (a secret, an email address) can be
    // in the payload. Checked by equality, not by searching random values for words.
    expect(claims).toEqual({
      iss: system.issuer,
      aud: API,
      sub: s1.client_id,
      client_id: s1.client_id,
      scope: 'read write',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
    });
    const payload = Buffer.from(access_token.split('.')[1]!, 'base64url').toString('utf8');
    expect(payload).not.toContain(s1.client_secret);
  });

  it('JWT-13: an independent verifier (jose, typ at+jwt, alg allow-list, issuer, audience) verifies against the published JWKS', async () => {
    const { access_token } = await issue();
    const { body } = await jwks();
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(body), {
      typ: 'at+jwt',
      algorithms: ['ES256', 'EdDSA', 'RS256'],
      issuer: system.issuer,
      audience: API,
    });
    expect(payload.client_id).toBe(s1.client_id);
  });

  describe('JWT-14: forgeries sent to introspection are each {"active":false}', () => {
    let genuine: string;
    let privateKey: { kid: string; jwk: JWK };

    beforeAll(async () => {
      genuine = (await issue()).access_token;
      privateKey = await activePrivateKey();
    });

    const inactive = async (token: string) => {
      const res = await postForm(url('/introspect'), { token }, as(s1));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('{"active":false}');
    };
    const part = (token: string, i: number) => token.split('.')[i]!;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    /** Signs with the server's own active key: only the one edited member differs from a real token. */
    async function signedByServer(
      edit: (claims: Record<string, unknown>) => Record<string, unknown>,
      header: Record<string, unknown> = {},
    ): Promise<string> {
      const claims = edit({ ...decodeJwt(genuine) });
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: privateKey.kid, ...header })
        .sign(await importJWK(privateKey.jwk, 'ES256'));
    }

    it('the genuine token is active, and one re-signed by the server key unchanged is too (the harness forges nothing else)', async () => {
      expect(await introspect(genuine)).toMatchObject({ active: true });
      expect(await introspect(await signedByServer((c) => c))).toMatchObject({ active: true });
    });

    it('payload edited (scope widened)', async () => {
      const claims = { ...decodeJwt(genuine), scope: 'read write admin' };
      await inactive(`${part(genuine, 0)}.${b64(claims)}.${part(genuine, 2)}`);
    });

    it('signature removed', async () => {
      await inactive(`${part(genuine, 0)}.${part(genuine, 1)}.`);
      await inactive(`${part(genuine, 0)}.${part(genuine, 1)}`);
    });

    it('alg none with an empty signature', async () => {
      const header = { ...decodeProtectedHeader(genuine), alg: 'none' };
      await inactive(`${b64(header)}.${part(genuine, 1)}.`);
    });

    it('alg HS256 signed with the public key (key confusion)', async () => {
      const { body } = await jwks();
      const publicJwk = body.keys.find((k) => k.kid === privateKey.kid)!;
      const header = { ...decodeProtectedHeader(genuine), alg: 'HS256' };
      const input = `${b64(header)}.${part(genuine, 1)}`;
      for (const secret of [JSON.stringify(publicJwk), `${publicJwk.x}${publicJwk.y}`]) {
        const mac = createHmac('sha256', secret).update(input).digest('base64url');
        await inactive(`${input}.${mac}`);
      }
    });

    it('unknown kid, and a kid of ../../x', async () => {
      await inactive(await signedByServer((c) => c, { kid: 'unknown-kid' }));
      await inactive(await signedByServer((c) => c, { kid: '../../x' }));
    });

    it('expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      await inactive(await signedByServer((c) => ({ ...c, iat: now - 120, exp: now - 60 })));
    });

    it('nbf in the future', async () => {
      await inactive(await signedByServer((c) => ({ ...c, nbf: Math.floor(Date.now() / 1000) + 3600 })));
    });

    it('another iss', async () => {
      await inactive(await signedByServer((c) => ({ ...c, iss: 'https://evil.test' })));
      await inactive(await signedByServer((c) => ({ ...c, iss: `${system.issuer}/` })));
    });

    it('typ JWT (and no typ)', async () => {
      await inactive(await signedByServer((c) => c, { typ: 'JWT' }));
      await inactive(await signedByServer((c) => c, { typ: undefined }));
    });
  });

  it('JWKS-01: jwks_uri answers 200 with a JWK Set as JSON', async () => {
    const { res, body } = await jwks();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/(jwk-set\+)?json/);
    expect(Array.isArray(body.keys)).toBe(true);
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
  });

  it('JWKS-02: no key has a private or symmetric member, none is kty oct', async () => {
    const { body } = await jwks();
    for (const key of body.keys) {
      for (const member of PRIVATE_JWK_MEMBERS) expect(key).not.toHaveProperty(member);
      expect(key.kty).not.toBe('oct');
    }
  });

  it('JWKS-03: every key has a unique kid, use sig and alg', async () => {
    await system.cli(['keys', 'rotate']);
    const { body } = await jwks();
    expect(body.keys.length).toBeGreaterThanOrEqual(2);
    const kids = body.keys.map((k) => k.kid);
    expect(new Set(kids).size).toBe(kids.length);
    for (const key of body.keys) {
      expect(typeof key.kid).toBe('string');
      expect(key.use).toBe('sig');
      expect(['ES256', 'EdDSA', 'RS256']).toContain(key.alg);
    }
  }, 30000);

  it('JWKS-06: Cache-Control max-age is shorter than the rotation overlap (2 × max-age before, token lifetime after)', async () => {
    const { res } = await jwks();
    const cacheControl = res.headers.get('cache-control')!;
    expect(cacheControl).toMatch(/^public, max-age=\d+$/);
    const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)![1]);
    expect(maxAge).toBe(300);
    const out = (await system.cli(['keys', 'list', '--json'])).trim().split('\n').pop()!;
    const { keys } = JSON.parse(out) as {
      keys: { status: string; generated_at: string; activates_at: string }[];
    };
    const pending = keys.find((k) => k.status === 'published')!;
    // Decision 14: pre-published for at least 2 × max-age.
    expect(Date.parse(pending.activates_at) - Date.parse(pending.generated_at)).toBeGreaterThanOrEqual(
      2 * maxAge * 1000,
    );
    expect(maxAge * 1000).toBeLessThan(Date.parse(pending.activates_at) - Date.parse(pending.generated_at));
  }, 30000);

  it('JWKS-07: EC keys are on P-256 (RSA moduli of 2048 bits or more: signing-key-rotation.e2e.spec.ts)', async () => {
    const { body } = await jwks();
    for (const key of body.keys) {
      if (key.kty === 'EC') expect(key.crv).toBe('P-256');
      if (key.kty === 'RSA') expect(Buffer.from(key.n!, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
    }
  });
});
