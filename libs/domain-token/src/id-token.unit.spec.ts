import { InMemoryEventStore } from '#lib/event-store';
import { accessTokenHash, buildIdTokenClaims } from './id-token.js';
import { subjectFor } from './subject.js';
import { clients, idTokenOf, TokenEndpointFixture } from './testing/token-endpoint-fixture.js';

describe('at_hash (OpenID Connect Core §3.1.3.8)', () => {
  it('is the left half of the SHA-256 of the access token for RS256 and ES256 (Core Appendix A.4 example)', () => {
    const accessToken = 'jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y';
    expect(accessTokenHash(accessToken, 'RS256')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
    expect(accessTokenHash(accessToken, 'ES256')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
  });

  it('uses SHA-512 for EdDSA (Ed25519): 32 octets, 43 base64url characters', () => {
    const hash = accessTokenHash('token', 'EdDSA');
    expect(hash).toHaveLength(43);
    expect(hash).not.toBe(accessTokenHash('token', 'RS256'));
  });
});

describe('ID token claims (OpenID Connect Core §2)', () => {
  const now = new Date('2030-01-01T00:00:10Z');
  const grant = { authTime: 1_893_456_000, nonce: 'n-0', sid: 's-1', amr: ['pwd'], acr: '1' };

  it('at the code exchange: iss, sub, aud (the client alone), exp, iat, auth_time, nonce, acr, amr, sid', () => {
    expect(
      buildIdTokenClaims({ issuer: 'https://as.test', idTokenTtlSeconds: 300 }, grant, {
        sub: 'u1',
        clientId: 'c1',
        now,
        exchange: 'code',
      }),
    ).toEqual({
      iss: 'https://as.test',
      sub: 'u1',
      aud: 'c1',
      iat: 1_893_456_010,
      exp: 1_893_456_310,
      auth_time: 1_893_456_000,
      nonce: 'n-0',
      sid: 's-1',
      amr: ['pwd'],
      acr: '1',
    });
  });

  it('at a refresh: the same sub and auth_time, no nonce (Core §12.2)', () => {
    const claims = buildIdTokenClaims({ issuer: 'https://as.test' }, grant, {
      sub: 'u1',
      clientId: 'c1',
      now,
      exchange: 'refresh',
    });
    expect(claims).not.toHaveProperty('nonce');
    expect(claims).toMatchObject({ sub: 'u1', auth_time: grant.authTime, exp: 1_893_456_010 + 3600 });
  });

  it('without recorded acr, amr, sid or nonce: none of them', () => {
    const claims = buildIdTokenClaims(
      { issuer: 'https://as.test' },
      { authTime: 1 },
      {
        sub: 'u1',
        clientId: 'c1',
        now,
        exchange: 'code',
      },
    );
    expect(Object.keys(claims).sort()).toEqual(['aud', 'auth_time', 'exp', 'iat', 'iss', 'sub']);
  });
});

describe('the token endpoint with OpenID Connect grants (Core §3.1.3.3, §11, §12.2)', () => {
  let f: TokenEndpointFixture;
  beforeEach(() => {
    f = new TokenEndpointFixture(new InMemoryEventStore());
  });
  const oidc = { ...clients.c1, scope: ['openid', 'offline_access', 'read'] };

  it('a code with openid gives an ID token signed RS256 by default, its nonce echoed and at_hash of the access token', async () => {
    const code = await f.seedCode({
      client: oidc,
      scope: ['openid', 'offline_access'],
      openId: { nonce: 'n-0', sid: 's-1', amr: ['pwd'] },
    });
    const res = await f.redeem(code, { client: oidc });
    const idToken = idTokenOf(res)!;
    expect(idToken.alg).toBe('RS256');
    expect(idToken.claims).toMatchObject({
      iss: 'https://as.test',
      sub: 'sub-alice',
      aud: 'c1',
      nonce: 'n-0',
      sid: 's-1',
      amr: ['pwd'],
      at_hash: accessTokenHash(res.access_token, 'RS256'),
    });
    expect(res.refresh_token).toBeDefined();
  });

  it("signs with the client's id_token_signed_response_alg", async () => {
    const client = { ...oidc, idTokenSignedResponseAlg: 'EdDSA' as const };
    const res = await f.redeem(await f.seedCode({ client, scope: ['openid'] }), { client });
    expect(idTokenOf(res)!.alg).toBe('EdDSA');
    expect(idTokenOf(res)!.claims.at_hash).toBe(accessTokenHash(res.access_token, 'EdDSA'));
  });

  it('no ID token without openid; the plain OAuth grant keeps its refresh token', async () => {
    const res = await f.redeem(await f.seedCode({ client: oidc, scope: ['read'] }), { client: oidc });
    expect(res.id_token).toBeUndefined();
    expect(res.refresh_token).toBeDefined();
  });

  it('Core §11: an OpenID grant without offline_access gets no refresh token', async () => {
    const res = await f.redeem(await f.seedCode({ client: oidc, scope: ['openid', 'read'] }), {
      client: oidc,
    });
    expect(res.id_token).toBeDefined();
    expect(res.refresh_token).toBeUndefined();
    expect(res.scope).toBe('openid read');
  });

  it('a refresh of an openid grant gives a fresh ID token: same sub and auth_time, no nonce', async () => {
    const code = await f.seedCode({
      client: oidc,
      scope: ['openid', 'offline_access'],
      openId: { nonce: 'n-0' },
    });
    const first = await f.redeem(code, { client: oidc });
    f.advance(30);
    const second = await f.refresh(first.refresh_token!, { client: oidc });
    const before = idTokenOf(first)!.claims;
    const after = idTokenOf(second)!.claims;
    expect(after).not.toHaveProperty('nonce');
    expect(after).toMatchObject({
      sub: before.sub,
      auth_time: before.auth_time,
      iat: (before.iat as number) + 30,
    });
    expect(after.at_hash).toBe(accessTokenHash(second.access_token, 'RS256'));
  });

  it('a refresh narrowed to drop openid gives no ID token', async () => {
    const code = await f.seedCode({ client: oidc, scope: ['openid', 'offline_access', 'read'] });
    const first = await f.redeem(code, { client: oidc });
    const second = await f.refresh(first.refresh_token!, { client: oidc, scope: 'read' });
    expect(second.id_token).toBeUndefined();
  });
});

describe('pairwise subject identifiers (OpenID Connect Core §8.1)', () => {
  const key = () => Buffer.alloc(32, 7);
  const pairwise = (...redirectUris: string[]) => ({ subjectType: 'pairwise' as const, redirectUris });

  it('stable for a client, the same for clients of one sector, different across sectors and users', () => {
    const a = subjectFor('user-1', pairwise('https://a.test/cb'), key);
    expect(subjectFor('user-1', pairwise('https://a.test/cb'), key)).toBe(a);
    expect(subjectFor('user-1', pairwise('https://a.test/other', 'https://a.test/cb2'), key)).toBe(a);
    expect(subjectFor('user-1', pairwise('https://b.test/cb'), key)).not.toBe(a);
    expect(subjectFor('user-2', pairwise('https://a.test/cb'), key)).not.toBe(a);
    expect(subjectFor('user-1', pairwise('https://a.test/cb'), () => Buffer.alloc(32, 8))).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toContain('user-1');
  });

  it('with sector_identifier_uri, its host is the sector whatever the redirect hosts (Core §8.1)', () => {
    const a = subjectFor('user-1', pairwise('https://a.test/cb'), key);
    const sector = 'https://a.test/sector.json';
    const two = { ...pairwise('https://x.test/cb', 'https://y.test/cb'), sectorIdentifierUri: sector };
    expect(subjectFor('user-1', two, key)).toBe(a);
    const other = { ...pairwise('https://a.test/cb'), sectorIdentifierUri: 'https://s.test/sector.json' };
    expect(subjectFor('user-1', other, key)).not.toBe(a);
  });

  it('public (or unset): the user identifier itself, and no key is read', () => {
    const noKey = () => {
      throw new Error('read');
    };
    expect(subjectFor('user-1', { redirectUris: ['https://a.test/cb'] }, noKey)).toBe('user-1');
    expect(subjectFor('user-1', { subjectType: 'public' }, noKey)).toBe('user-1');
  });
});
