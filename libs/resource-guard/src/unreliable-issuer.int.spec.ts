import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessTokenVerifier } from './access-token-verifier.js';
import { BearerError } from './bearer-error.js';

/**
 * The guard against a real authorization server on a loopback port whose JWKS hangs or fails,
 * with the real fetch and the real clock: a hung server costs a request the fetch timeout at
 * most, and a failing one is not asked again for every request.
 */
describe('AccessTokenVerifier against a hanging and a failing issuer (loopback HTTP)', () => {
  let server: Server;
  let issuer: string;
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  let jwksRequests = 0;
  const held: ServerResponse[] = [];
  let jwk: JWK;
  let sign: () => Promise<string>;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/oauth-authorization-server') {
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
        return;
      }
      jwksRequests++;
      if (mode === 'hang') {
        held.push(res);
      } else if (mode === 'fail') {
        res.statusCode = 503;
        res.end('{}');
      } else {
        res.end(JSON.stringify({ keys: [jwk] }));
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sign = () =>
      new SignJWT({ client_id: 'c1', jti: 'j1' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience('https://rs.example')
        .setSubject('u1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
  });

  afterAll(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  const verifier = () =>
    new AccessTokenVerifier({ issuer, audience: 'https://rs.example', fetchTimeoutMs: 300 });
  const status = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (err: unknown) => (err instanceof BearerError ? err.status : -1),
    );

  it('a hanging JWKS: 503 within the timeout; requests meanwhile share the one fetch; the next answers at once', async () => {
    mode = 'hang';
    jwksRequests = 0;
    const guard = verifier();
    const token = await sign();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 10 }, () => status(guard.verify(token))));
    expect(answers).toEqual(Array(10).fill(503));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(jwksRequests).toBe(1);
    const again = Date.now();
    expect(await status(guard.verify(token))).toBe(503);
    expect(Date.now() - again).toBeLessThan(100);
    expect(jwksRequests).toBe(1);
  });

  it('a failing JWKS: 100 requests cost one fetch; after the back-off the recovered server is asked again', async () => {
    mode = 'fail';
    jwksRequests = 0;
    const guard = verifier();
    const token = await sign();
    for (let i = 0; i < 100; i++) expect(await status(guard.verify(token))).toBe(503);
    expect(jwksRequests).toBe(1);
    mode = 'ok';
    await new Promise((r) => setTimeout(r, 1100));
    expect(await status(guard.verify(token))).toBe(200);
    expect(jwksRequests).toBe(2);
  });
});
