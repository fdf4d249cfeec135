import { selfSignedCertificate, type SelfSignedCertificate } from '#lib/testing';
import { createRemoteJWKSet, customFetch, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { NO_OUTBOUND_EXCEPTIONS, parseOutboundAllowList } from './address-policy.js';
import { createOutboundFetch, type OutboundFetch, OutboundRefused } from './outbound-fetch.js';

/**
 * The outbound fetch against real sockets on 127.0.0.1 (the only address it is ever pointed at
 * here): what it refuses opens no connection, and every limit holds.
 */
describe('outbound fetch (RFC 9700 §4.16): address check, time and size limits, no redirects', () => {
  const TIMEOUT_MS = 600;
  let tls: SelfSignedCertificate;
  let server: HttpsServer;
  let silent: Server;
  const silentSockets: Socket[] = [];
  let port: number;
  let silentPort: number;
  let connections = 0;
  let requests: string[] = [];
  let jwks: { keys: Record<string, unknown>[] };
  let sign: () => Promise<string>;
  const open: OutboundFetch[] = [];

  const guarded = (allow = '127.0.0.1', resolve?: (host: string) => Promise<string[]>) => {
    const f = createOutboundFetch({
      allow: allow === '' ? NO_OUTBOUND_EXCEPTIONS : parseOutboundAllowList(allow),
      timeoutMs: TIMEOUT_MS,
      maxResponseBytes: 64 * 1024,
      ca: tls.cert,
      ...(resolve === undefined ? {} : { resolve }),
    });
    open.push(f);
    return f;
  };

  beforeAll(async () => {
    tls = selfSignedCertificate(['jwks.test']);
    const pair = await generateKeyPair('ES256');
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] };
    sign = () =>
      new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('c').sign(pair.privateKey);
    server = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      requests.push(req.url!);
      if (req.url === '/jwks') {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwks));
      } else if (req.url === '/hang') {
        // never answers
      } else if (req.url === '/drip') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(timer));
      } else if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 8 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else if (req.url === '/announced') {
        res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
        res.write('{');
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: '/jwks' }).end();
      } else {
        res.writeHead(404).end();
      }
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
    // Accepts TCP and never speaks: the TLS handshake never completes.
    silent = createServer((socket) => silentSockets.push(socket));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    silentPort = (silent.address() as { port: number }).port;
  });

  beforeEach(() => {
    connections = 0;
    requests = [];
  });

  afterAll(async () => {
    await Promise.all(open.map((f) => f.close().catch(() => undefined)));
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    for (const socket of silentSockets) socket.destroy();
    await new Promise((ok) => silent.close(ok));
    tls.dispose();
  });

  const url = (path: string) => `https://127.0.0.1:${port}${path}`;

  async function timed<T>(work: Promise<T>): Promise<{ error: unknown; ms: number }> {
    const started = Date.now();
    try {
      await work;
      return { error: undefined, ms: Date.now() - started };
    } catch (error) {
      return { error, ms: Date.now() - started };
    }
  }

  it('fetches from an allow-listed address', async () => {
    const res = await guarded()(url('/jwks'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(jwks);
  });

  it('serves as jose customFetch: the key set is fetched through it and a JWT verifies', async () => {
    const keys = createRemoteJWKSet(new URL(url('/jwks')), { [customFetch]: guarded() });
    const { payload } = await jwtVerify(await sign(), keys);
    expect(payload.iss).toBe('c');
    expect(requests).toEqual(['/jwks']);
  });

  it('refuses a loopback address that is not allow-listed, and connects to nothing', async () => {
    await expect(guarded('')(url('/jwks'))).rejects.toThrow(/127\.0\.0\.1 is loopback/);
    await expect(guarded('')(`https://[::ffff:127.0.0.1]:${port}/jwks`)).rejects.toThrow(OutboundRefused);
    expect(connections).toBe(0);
  });

  it('refuses a name that resolves to a refused address (any of its addresses), and connects to nothing', async () => {
    for (const answer of [['127.0.0.1'], ['93.184.215.14', '127.0.0.1'], ['169.254.169.254']]) {
      const f = guarded('', async () => answer);
      await expect(f(`https://jwks.test:${port}/jwks`)).rejects.toThrow(/jwks\.test resolves to/);
    }
    expect(connections).toBe(0);
  });

  it('connects to the address it checked: no second look-up (a .test name the system cannot resolve)', async () => {
    const answers: string[] = [];
    const f = guarded('127.0.0.1', async (host) => {
      answers.push(host);
      return ['127.0.0.1'];
    });
    const res = await f(`https://jwks.test:${port}/jwks`);
    expect(res.status).toBe(200);
    expect(answers).toEqual(['jwks.test']);
  });

  it('lets an allow-listed host name through whatever it resolves to', async () => {
    const res = await guarded('jwks.test', async () => ['127.0.0.1'])(`https://jwks.test:${port}/jwks`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['http', (p: number) => `http://127.0.0.1:${p}/jwks`, /not an https URL/],
    ['userinfo', (p: number) => `https://user:pw@127.0.0.1:${p}/jwks`, /userinfo/],
  ])('refuses %s before connecting', async (_n, make, message) => {
    await expect(guarded()(make(port))).rejects.toThrow(message);
    expect(connections).toBe(0);
  });

  it.each([
    ['a server that never answers', () => url('/hang')],
    ['a body sent one byte at a time, forever', () => url('/drip')],
    ['a TLS handshake that never completes', () => `https://127.0.0.1:${silentPort}/jwks`],
  ])('gives up on %s within the time limit', async (_n, make) => {
    const { error, ms } = await timed(guarded()(make()));
    expect((error as Error).name).toBe('TimeoutError');
    expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
  });

  it.each([
    ['a body past the limit', '/huge'],
    ['a Content-Length past the limit', '/announced'],
  ])('refuses %s', async (_n, path) => {
    const { error, ms } = await timed(guarded()(url(path)));
    expect((error as Error).message).toMatch(/response larger than 65536 bytes|exceeded/i);
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });

  it('returns a redirect without following it', async () => {
    const res = await guarded()(url('/redirect'));
    expect(res.status).toBe(302);
    expect(requests).toEqual(['/redirect']);
  });

  it('a caller signal that fires first ends the fetch', async () => {
    const { error, ms } = await timed(guarded()(url('/hang'), { signal: AbortSignal.timeout(100) }));
    expect((error as Error).name).toBe('TimeoutError');
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });
});
