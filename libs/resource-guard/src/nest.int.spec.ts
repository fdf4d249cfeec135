import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AccessToken, RequireScopes, ResourceGuardModule, RevocationSensitive } from './nest.js';
import type { VerifiedAccessToken } from './access-token-verifier.js';

const ISSUER = 'https://as.example';
const AUD = 'https://rs.example';

describe('ResourceGuardModule in a NestJS app (Fastify on a loopback port)', () => {
  let app: NestFastifyApplication;
  let base: string;
  let sign: (scope: string) => Promise<string>;
  let active = true;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    sign = (scope) =>
      new SignJWT({ client_id: 'c1', jti: 'j1', scope })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(AUD)
        .setSubject('u1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    const fakeFetch = (async (url: string) => {
      if (url.endsWith('/.well-known/oauth-authorization-server'))
        return Response.json({
          issuer: ISSUER,
          jwks_uri: `${ISSUER}/jwks`,
          introspection_endpoint: `${ISSUER}/i`,
        });
      if (url.endsWith('/jwks')) return Response.json({ keys: [jwk] });
      if (url.endsWith('/i')) return Response.json({ active });
      return new Response('', { status: 404 });
    }) as typeof fetch;

    @Controller('api')
    @RequireScopes('profile')
    class ApiController {
      @Get('profile')
      profile(@AccessToken() token: VerifiedAccessToken) {
        return { sub: token.claims.sub };
      }

      @Get('email')
      @RequireScopes('email')
      @RevocationSensitive()
      email(@AccessToken() token: VerifiedAccessToken) {
        return { scopes: token.scopes };
      }
    }

    @Controller('open')
    class OpenController {
      @Get()
      open() {
        return { open: true };
      }
    }

    @Module({
      imports: [
        ResourceGuardModule.forRoot({
          issuer: ISSUER,
          audience: AUD,
          fetch: fakeFetch,
          introspection: { clientId: AUD, clientSecret: 's' },
        }),
      ],
      controllers: [ApiController, OpenController],
    })
    class AppModule {}

    app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = async (url: string, authorization?: string) => {
    const res = await fetch(`${base}${url}`, { headers: authorization ? { authorization } : {} });
    return { statusCode: res.status, headers: Object.fromEntries(res.headers), json: await res.json() };
  };

  it('a route of an unguarded controller stays open', async () => {
    expect((await get('/open')).statusCode).toBe(200);
  });

  it('class-level scopes apply to every route; the verified token reaches the handler', async () => {
    const res = await get('/api/profile', `Bearer ${await sign('profile')}`);
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({ sub: 'u1' });
  });

  it('class and route scopes add up: a token with only "email" gets 403 naming both', async () => {
    const res = await get('/api/email', `Bearer ${await sign('email')}`);
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(res.headers['www-authenticate']).toContain('scope="email profile"');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('the filter writes 401 with the challenge; no credentials: no error code', async () => {
    const res = await get('/api/profile');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUD}"`);
    expect(res.json).toEqual({ error: 'unauthorized', error_description: 'an access token is required' });
  });

  it('revocation-sensitive route: inactive at introspection → 401 invalid_token', async () => {
    const token = await sign('profile email');
    expect((await get('/api/email', `Bearer ${token}`)).statusCode).toBe(200);
    active = false;
    const res = await get('/api/email', `Bearer ${token}`);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    // The profile route is not revocation-sensitive: local validation still accepts the token.
    expect((await get('/api/profile', `Bearer ${token}`)).statusCode).toBe(200);
    active = true;
  });
});
