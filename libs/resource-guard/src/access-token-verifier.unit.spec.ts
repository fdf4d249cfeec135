import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { AccessTokenVerifier } from './access-token-verifier.js';
import { BearerError } from './bearer-error.js';

const ISSUER = 'https://as.example';
const AUD = 'https://rs.example';
const NOW = 1_800_000_000_000;

async function setup(options: { introspection?: (body: URLSearchParams) => unknown } = {}) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  let keys: JWK[] = [jwk];
  const calls: string[] = [];
  const fakeFetch = (async (input: string, init?: RequestInit) => {
    calls.push(String(input));
    if (input === `https://as.example/.well-known/oauth-authorization-server`) {
      return Response.json({
        issuer: ISSUER,
        jwks_uri: `${ISSUER}/jwks`,
        introspection_endpoint: `${ISSUER}/introspect`,
      });
    }
    if (input === `${ISSUER}/jwks`) {
      return Response.json({ keys }, { headers: { 'cache-control': 'public, max-age=300' } });
    }
    if (input === `${ISSUER}/introspect`) {
      return Response.json(
        options.introspection?.(new URLSearchParams(String(init?.body))) ?? { active: false },
      );
    }
    return new Response('', { status: 404 });
  }) as typeof fetch;
  let now = NOW;
  const verifier = new AccessTokenVerifier({
    issuer: ISSUER,
    audience: AUD,
    fetch: fakeFetch,
    now: () => now,
    introspection: { clientId: AUD, clientSecret: 's' },
  });
  const sign = (
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key = privateKey,
  ) =>
    new SignJWT({
      iss: ISSUER,
      aud: AUD,
      sub: 'u1',
      iat: NOW / 1000,
      exp: NOW / 1000 + 600,
      client_id: 'c1',
      scope: 'email profile',
      jti: 'j1',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header })
      .sign(key);
  return {
    verifier,
    sign,
    calls,
    privateKey,
    setKeys: (k: JWK[]) => (keys = k),
    jwk,
    advance: (ms: number) => (now += ms),
  };
}

async function refusal(p: Promise<unknown>): Promise<BearerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BearerError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('Access token validation (RFC 9068 §4, RFC 6750 §3.1)', () => {
  it('accepts a well-formed token and returns its claims and scopes', async () => {
    const { verifier, sign } = await setup();
    const v = await verifier.verify(await sign(), { scopes: ['email'] });
    expect(v.claims.sub).toBe('u1');
    expect(v.scopes).toEqual(['email', 'profile']);
  });

  it.each([
    ['wrong iss', { iss: 'https://evil.example' }, {}],
    ['wrong aud', { aud: 'https://other.example' }, {}],
    ['typ JWT', {}, { typ: 'JWT' }],
    ['no typ', {}, { typ: undefined }],
    ['missing client_id', { client_id: undefined }, {}],
  ])('%s: 401 invalid_token', async (_name, claims, header) => {
    const { verifier, sign } = await setup();
    const err = await refusal(verifier.verify(await sign(claims, header)));
    expect([err.status, err.error]).toEqual([401, 'invalid_token']);
  });

  it('expired beyond the leeway: invalid_token "expired"; within the leeway: accepted', async () => {
    const { verifier, sign, advance } = await setup();
    const token = await sign();
    advance(600_000 + 20_000);
    await expect(verifier.verify(token)).resolves.toBeDefined();
    advance(20_000);
    const err = await refusal(verifier.verify(token));
    expect([err.status, err.error, err.description]).toEqual([
      401,
      'invalid_token',
      'the access token expired',
    ]);
  });

  it('alg none is refused before any key is looked up', async () => {
    const { verifier } = await setup();
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: ISSUER, aud: AUD, sub: 'u1', exp: NOW / 1000 + 60, iat: NOW / 1000, jti: 'j', client_id: 'c' })}.`;
    const err = await refusal(verifier.verify(none));
    expect(err.error).toBe('invalid_token');
  });

  it('HS256 signed with the public key (key confusion) is refused', async () => {
    const { verifier, jwk } = await setup();
    const secret = new TextEncoder().encode(JSON.stringify(jwk));
    const forged = await new SignJWT({ client_id: 'c', jti: 'j' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setSubject('u1')
      .setIssuedAt(NOW / 1000)
      .setExpirationTime(NOW / 1000 + 60)
      .sign(secret);
    expect((await refusal(verifier.verify(forged))).error).toBe('invalid_token');
  });

  it('a signature by another key with a known kid is refused', async () => {
    const { verifier, sign } = await setup();
    const other = await generateKeyPair('ES256');
    expect((await refusal(verifier.verify(await sign({}, {}, other.privateKey)))).error).toBe(
      'invalid_token',
    );
  });

  it('the JWKS is cached: many verifications, one fetch', async () => {
    const { verifier, sign } = await setup();
    const token = await sign();
    for (let i = 0; i < 5; i++) await verifier.verify(token);
    expect(verifier.jwksFetches).toBe(1);
  });

  it('an unknown kid refetches the JWKS once (key rotation), then verifies', async () => {
    const { verifier, sign, setKeys, jwk, advance } = await setup();
    await verifier.verify(await sign());
    const next = await generateKeyPair('ES256');
    setKeys([jwk, { ...(await exportJWK(next.publicKey)), kid: 'k2', alg: 'ES256' }]);
    advance(31_000);
    const rotated = await sign({}, { kid: 'k2' }, next.privateKey);
    await expect(verifier.verify(rotated)).resolves.toBeDefined();
    expect(verifier.jwksFetches).toBe(2);
  });

  it('a still-unknown kid after the refetch: invalid_token, and no second refetch within the cool-down', async () => {
    const { verifier, sign, advance } = await setup();
    await verifier.verify(await sign());
    advance(31_000);
    const err = await refusal(verifier.verify(await sign({}, { kid: 'nope' })));
    expect(err.error).toBe('invalid_token');
    expect(verifier.jwksFetches).toBe(2);
    await refusal(verifier.verify(await sign({}, { kid: 'nope2' })));
    expect(verifier.jwksFetches).toBe(2);
  });

  it('a missing scope: 403 insufficient_scope naming every scope the request needs', async () => {
    const { verifier, sign } = await setup();
    const err = await refusal(
      verifier.verify(await sign({ scope: 'profile' }), { scopes: ['email', 'profile'] }),
    );
    expect([err.status, err.error, err.scope]).toEqual([403, 'insufficient_scope', 'email profile']);
  });

  it('revocation-sensitive: introspection active:false refuses with invalid_token; active:true passes', async () => {
    let active = true;
    const seen: URLSearchParams[] = [];
    const { verifier, sign } = await setup({
      introspection: (body) => {
        seen.push(body);
        return { active, jti: 'j1' };
      },
    });
    const token = await sign();
    await expect(verifier.verify(token, { revocationSensitive: true })).resolves.toBeDefined();
    expect(seen[0]!.get('token')).toBe(token);
    active = false;
    const err = await refusal(verifier.verify(token, { revocationSensitive: true }));
    expect([err.status, err.error]).toEqual([401, 'invalid_token']);
    // Not asked when the route is not revocation-sensitive.
    await expect(verifier.verify(token)).resolves.toBeDefined();
    expect(seen).toHaveLength(2);
  });

  it('metadata naming another issuer: 503, never accepted', async () => {
    const { sign } = await setup();
    const verifier = new AccessTokenVerifier({
      issuer: ISSUER,
      audience: AUD,
      now: () => NOW,
      fetch: (async () => Response.json({ issuer: 'https://evil.example', jwks_uri: 'x' })) as typeof fetch,
    });
    expect((await refusal(verifier.verify(await sign()))).status).toBe(503);
  });

  it('refuses unsafe algorithm settings', () => {
    expect(() => new AccessTokenVerifier({ issuer: ISSUER, audience: AUD, algorithms: ['HS256'] })).toThrow();
    expect(() => new AccessTokenVerifier({ issuer: ISSUER, audience: AUD, algorithms: ['none'] })).toThrow();
  });

  it('refuses a fetch timeout that is not a positive integer', () => {
    for (const fetchTimeoutMs of [0, -1, 1.5, Number.NaN])
      expect(() => new AccessTokenVerifier({ issuer: ISSUER, audience: AUD, fetchTimeoutMs })).toThrow(
        /fetchTimeoutMs/,
      );
  });
});

describe('the authorization server hangs or fails: fetch timeouts and a back-off', () => {
  type Mode = 'ok' | 'fail' | 'hang';

  /** A verifier whose issuer's JWKS answers as `mode()` says; counts what it is asked. */
  async function flaky(start: Mode, options: { fetchTimeoutMs?: number } = {}) {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    let mode: Mode = start;
    const asked = { metadata: 0, jwks: 0, introspection: 0 };
    const signals: (AbortSignal | undefined)[] = [];
    const hang = (signal: AbortSignal | null | undefined) =>
      new Promise<Response>((_ok, fail) => {
        signal?.addEventListener('abort', () => fail(signal.reason));
      });
    const fakeFetch = (async (input: string, init?: RequestInit) => {
      signals.push(init?.signal ?? undefined);
      if (input.endsWith('/.well-known/oauth-authorization-server')) {
        asked.metadata++;
        return Response.json({
          issuer: ISSUER,
          jwks_uri: `${ISSUER}/jwks`,
          introspection_endpoint: `${ISSUER}/introspect`,
        });
      }
      if (input === `${ISSUER}/introspect`) {
        asked.introspection++;
        return hang(init?.signal);
      }
      asked.jwks++;
      if (mode === 'hang') return hang(init?.signal);
      if (mode === 'fail') return new Response('{}', { status: 500 });
      return Response.json({ keys: [jwk] }, { headers: { 'cache-control': 'max-age=300' } });
    }) as typeof fetch;
    let now = NOW;
    const verifier = new AccessTokenVerifier({
      issuer: ISSUER,
      audience: AUD,
      fetch: fakeFetch,
      now: () => now,
      introspection: { clientId: AUD, clientSecret: 's' },
      ...options,
    });
    const sign = (kid = 'k1') =>
      new SignJWT({
        iss: ISSUER,
        aud: AUD,
        sub: 'u1',
        iat: NOW / 1000,
        exp: NOW / 1000 + 3600,
        client_id: 'c',
        jti: 'j',
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .sign(privateKey);
    return {
      verifier,
      sign,
      asked,
      signals,
      setMode: (m: Mode) => (mode = m),
      advance: (ms: number) => (now += ms),
    };
  }

  it('a JWKS that never answers: 503 once the fetch timeout passes, never a hang', async () => {
    const { verifier, sign, signals } = await flaky('hang', { fetchTimeoutMs: 50 });
    const started = Date.now();
    const err = await refusal(verifier.verify(await sign()));
    expect(err.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2000);
    // Every request to the authorization server carries an abort signal.
    expect(signals.every((s) => s instanceof AbortSignal)).toBe(true);
  });

  it('concurrent requests share one fetch of a hanging JWKS, and all get 503 at its timeout', async () => {
    const { verifier, sign, asked } = await flaky('hang', { fetchTimeoutMs: 50 });
    const token = await sign();
    const answers = await Promise.all(Array.from({ length: 20 }, () => refusal(verifier.verify(token))));
    expect(answers.map((e) => e.status)).toEqual(Array(20).fill(503));
    expect(asked.jwks).toBe(1);
  });

  it('a failing JWKS is asked again only after the back-off: 1 s, then 2 s, 4 s … at most the min age', async () => {
    const { verifier, sign, asked, advance } = await flaky('fail');
    const token = await sign();
    for (let i = 0; i < 50; i++) expect((await refusal(verifier.verify(token))).status).toBe(503);
    expect(asked.jwks).toBe(1);
    advance(999);
    await refusal(verifier.verify(token));
    expect(asked.jwks).toBe(1);
    advance(1);
    await refusal(verifier.verify(token));
    expect(asked.jwks).toBe(2);
    advance(1999);
    await refusal(verifier.verify(token));
    expect(asked.jwks).toBe(2);
    advance(1);
    await refusal(verifier.verify(token));
    expect(asked.jwks).toBe(3);
    // The wait doubles up to the JWKS min age (30 s), never beyond.
    for (let i = 0; i < 10; i++) {
      advance(30_000);
      await refusal(verifier.verify(token));
    }
    expect(asked.jwks).toBe(13);
  });

  it('once the JWKS answers again (after the back-off), tokens verify and the failures are forgotten', async () => {
    const { verifier, sign, asked, setMode, advance } = await flaky('fail');
    const token = await sign();
    await refusal(verifier.verify(token));
    setMode('ok');
    expect((await refusal(verifier.verify(token))).status).toBe(503);
    expect(asked.jwks).toBe(1);
    advance(1000);
    await expect(verifier.verify(token)).resolves.toBeDefined();
    expect(asked.jwks).toBe(2);
  });

  it('while the JWKS fails, forged kids are invalid_token and cost no fetch', async () => {
    const { verifier, sign, asked, setMode, advance } = await flaky('ok');
    await verifier.verify(await sign());
    setMode('fail');
    advance(31_000);
    // The first unknown kid may refetch (a rotation); it fails: 503, and the failure is remembered.
    expect((await refusal(verifier.verify(await sign('k2')))).status).toBe(503);
    expect(asked.jwks).toBe(2);
    for (let i = 0; i < 20; i++) {
      advance(100);
      const err = await refusal(verifier.verify(await sign(`forged-${i}`)));
      expect([err.status, err.error]).toEqual([401, 'invalid_token']);
    }
    expect(asked.jwks).toBe(2);
    // Tokens of the known key still verify against the cached, unexpired set.
    await expect(verifier.verify(await sign())).resolves.toBeDefined();
  });

  it('a hanging introspection endpoint: 503 at the timeout on a revocation-sensitive request', async () => {
    const { verifier, sign, asked } = await flaky('ok', { fetchTimeoutMs: 50 });
    const err = await refusal(verifier.verify(await sign(), { revocationSensitive: true }));
    expect(err.status).toBe(503);
    expect(asked.introspection).toBe(1);
  });
});
