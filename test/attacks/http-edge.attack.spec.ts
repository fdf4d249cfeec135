import { connect as tcpConnect, type Socket } from 'node:net';
import { authorizeUrl, CookieJar, hiddenField } from '../support/authorize.js';
import { type RunningSystem, startSystem } from '../support/system.js';

/**
 * Issue 18, items 7 and 8: the HTTP listeners bound the time a request may take (a slow body or
 * slow headers hold a connection only as long as the operator allows), and the caller's address
 * used for limits comes from the trusted proxy hops only.
 */
describe('the HTTP edge: time limits and proxies (checklist PRIV-13, PRIV-14)', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({
      env: {
        HTTP_REQUEST_TIMEOUT_MS: '3000',
        HTTP_HEADERS_TIMEOUT_MS: '2000',
        TRUST_PROXY: '1',
        LOGIN_MAX_FAILURES_PER_IP: '3',
        LOGIN_MAX_FAILURES: '1000',
      },
    });
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  });

  /** Opens a connection, writes `head`, then one byte of `drip` every `everyMs`; resolves when closed. */
  function trickle(head: string, drip: string, everyMs: number, giveUpMs: number) {
    const { port } = new URL(system.baseUrl);
    return new Promise<{ closedAfterMs: number | null; received: string }>((resolve) => {
      const started = Date.now();
      let received = '';
      let i = 0;
      const socket: Socket = tcpConnect(Number(port), '127.0.0.1', () => socket.write(head));
      const timer = setInterval(() => {
        if (i < drip.length && !socket.destroyed) socket.write(drip[i++]!);
      }, everyMs);
      const giveUp = setTimeout(() => finish(null), giveUpMs);
      socket.on('data', (d) => (received += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => finish(Date.now() - started));
      function finish(after: number | null) {
        clearInterval(timer);
        clearTimeout(giveUp);
        socket.destroy();
        resolve({ closedAfterMs: after, received });
      }
    });
  }

  it('PRIV-13: a request body sent one byte at a time is cut off at the request timeout', async () => {
    const head =
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n';
    const { closedAfterMs, received } = await trickle(head, 'grant_type=client_credentials', 1000, 20000);
    expect(closedAfterMs).not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(12000);
    expect(received).not.toMatch(/HTTP\/1\.1 5\d\d/);
  }, 30000);

  it('PRIV-13: headers sent one byte at a time are cut off at the headers timeout', async () => {
    const { closedAfterMs } = await trickle(
      'POST /token HTTP/1.1\r\n',
      'Host: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n',
      1000,
      20000,
    );
    expect(closedAfterMs).not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(12000);
  }, 30000);

  it('PRIV-14: TRUST_PROXY=true (trust every hop) is refused at start', async () => {
    const gateway = await system.launch('gateway', 'gateway-trust-all', {
      TRUST_PROXY: 'true',
      HTTP_PORT: '0',
    });
    const code = await new Promise<number | null>((resolve) => {
      if (gateway.exitCode !== null) return resolve(gateway.exitCode);
      gateway.once('exit', (c) => resolve(c));
      setTimeout(() => resolve(null), 15000);
    });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(system.output.filter((l) => l.startsWith('[gateway-trust-all]')).join('')).toMatch(/TRUST_PROXY/);
  }, 30000);

  /** A failed login with the given X-Forwarded-For; returns the status of the login answer. */
  async function failedLogin(forwardedFor: string, username: string): Promise<number> {
    const client = await clientForLogin();
    const jar = new CookieJar();
    const page = await fetch(
      authorizeUrl(system, {
        clientId: client,
        redirectUri: 'https://edge.test/cb',
        scope: 'read',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      }),
      { headers: { cookie: jar.header() }, redirect: 'manual' },
    );
    jar.take(page);
    const html = await page.text();
    const res = await fetch(`${system.baseUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: jar.header(),
        'x-forwarded-for': forwardedFor,
      },
      body: new URLSearchParams({
        tx: hiddenField(html, 'tx'),
        csrf: hiddenField(html, 'csrf'),
        username,
        password: 'wrong password',
      }).toString(),
    });
    await res.text();
    return res.status;
  }

  let loginClient: string | undefined;
  async function clientForLogin(): Promise<string> {
    loginClient ??= (
      await system.createClient([
        '--name',
        'edge',
        '--grant',
        'authorization_code',
        '--scope',
        'read',
        '--redirect-uri',
        'https://edge.test/cb',
      ])
    ).client_id;
    return loginClient;
  }

  it('PRIV-14: with one trusted hop, a spoofed X-Forwarded-For does not reset the per-address limit', async () => {
    // A proxy that appends: the client's own header, then the address the proxy saw.
    for (let i = 0; i < 3; i++) expect(await failedLogin(`198.51.100.${i}, 203.0.113.9`, `u${i}`)).toBe(200);
    expect(await failedLogin('198.51.100.77, 203.0.113.9', 'u3')).toBe(429);
    // Another address, as the proxy saw it, is not limited.
    expect(await failedLogin('203.0.113.9, 203.0.113.10', 'u4')).toBe(200);
  }, 60000);
});
