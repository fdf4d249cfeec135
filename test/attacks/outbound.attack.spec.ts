import { selfSignedCertificate, type SelfSignedCertificate } from '#lib/testing';
import { exportJWK, generateKeyPair, type CryptoKey, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import { postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * The attacker aims the server's own fetches inward (RFC 9700 §4.16: SSRF through a URL the client
 * supplies, here the private_key_jwt `jwks_uri`), and replays a client assertion made for another
 * audience (the audience injection that draft-ietf-oauth-rfc7523bis closes: the issuer identifier
 * is the sole `aud`).
 *
 * Only loopback addresses are ever connected to: a jwks_uri naming a private or link-local address
 * is registered and never used, so that even a server without the guard sends nothing there.
 */

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Keys {
  privateKey: CryptoKey;
  jwk: Record<string, unknown>;
}

async function makeKeys(): Promise<Keys> {
  const pair = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig', alg: 'ES256' };
  return { privateKey: pair.privateKey, jwk };
}

function assertion(keys: Keys, clientId: string, aud: string | string[]): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(keys.privateKey);
}

/** A TCP listener on 127.0.0.1 that counts the connections it is offered and answers nothing. */
async function countingListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, port: (server.address() as { port: number }).port, connections: () => count };
}

function adminRequest(system: RunningSystem, method: string, path: string, body: unknown) {
  return fetch(`${system.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const pkjwtDocument = (name: string, extra: Record<string, unknown>) => ({
  client_name: name,
  grant_types: ['client_credentials'],
  scope: 'read',
  token_endpoint_auth_method: 'private_key_jwt',
  ...extra,
});

async function registerWithJwksUri(system: RunningSystem, jwksUri: string) {
  const res = await adminRequest(
    system,
    'POST',
    '/admin/clients',
    pkjwtDocument('ssrf', { jwks_uri: jwksUri }),
  );
  const body = (await res.json()) as { client_id?: string; error?: string; error_description?: string };
  return { status: res.status, body };
}

async function tokenWith(system: RunningSystem, a: string) {
  const started = Date.now();
  const res = await postForm(`${system.baseUrl}/token`, {
    grant_type: 'client_credentials',
    scope: 'read',
    client_assertion_type: JWT_BEARER,
    client_assertion: a,
  });
  const body = (await res.json()) as { error?: string; access_token?: string };
  return { status: res.status, error: body.error, elapsedMs: Date.now() - started };
}

/** The client registry's `jwks_uri not fetched` warnings that mention `needle` (its log is read as it comes). */
async function registryWarnings(system: RunningSystem, needle: string): Promise<string[]> {
  for (let i = 0; ; i++) {
    const found = (system.lines.get('client-registry') ?? []).filter(
      (l) => l.includes('jwks_uri not fetched') && l.includes(needle),
    );
    if (found.length > 0 || i >= 20) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Outbound fetches and client assertion audiences (RFC 9700 §4.16, draft-ietf-oauth-rfc7523bis)', () => {
  describe('default settings', () => {
    let system: RunningSystem;
    let listener: Awaited<ReturnType<typeof countingListener>>;
    let keys: Keys;

    beforeAll(async () => {
      system = await startSystem();
      listener = await countingListener();
      keys = await makeKeys();
    }, 90000);

    afterAll(async () => {
      listener?.server.close();
      await system?.stop();
    }, 30000);

    it.each([
      ['127.0.0.1', (port: number) => `https://127.0.0.1:${port}/jwks`],
      ['localhost (a name that resolves to loopback)', (port: number) => `https://localhost:${port}/jwks`],
      [
        '[::ffff:127.0.0.1] (IPv4-mapped loopback)',
        (port: number) => `https://[::ffff:127.0.0.1]:${port}/jwks`,
      ],
      ['0x7f.1 (another spelling of 127.0.0.1)', (port: number) => `https://0x7f.1:${port}/jwks`],
    ])(
      'PRIV-11: a jwks_uri at %s is refused at registration or at /token, and nothing connects',
      async (_name, uri) => {
        const registered = await registerWithJwksUri(system, uri(listener.port));
        if (registered.status !== 201) {
          expect(registered.status).toBe(400);
          expect(registered.body.error).toBe('invalid_client_metadata');
          expect(registered.body.error_description).toMatch(/jwks_uri/);
        } else {
          const clientId = registered.body.client_id!;
          const res = await tokenWith(system, await assertion(keys, clientId, system.issuer));
          expect([res.status, res.error]).toEqual([401, 'invalid_client']);
        }
        expect(listener.connections()).toBe(0);
      },
    );

    it("PRIV-11: the refusal of a name that resolves to loopback is the operator's warning", async () => {
      const warnings = await registryWarnings(system, 'localhost');
      expect(warnings.join('\n')).toMatch(
        /outbound fetch refused: localhost resolves to (127\.0\.0\.1|::1), loopback/,
      );
    });

    // Never fetched by this test, whatever the answer: these addresses are not ours to reach.
    it.each([
      ['169.254.169.254 (cloud metadata)', 'https://169.254.169.254/latest/meta-data/jwks'],
      ['10.0.0.1 (RFC 1918)', 'https://10.0.0.1/jwks'],
      ['192.168.1.1 (RFC 1918)', 'https://192.168.1.1/jwks'],
      ['172.16.0.1 (RFC 1918)', 'https://172.16.0.1/jwks'],
      ['100.64.0.1 (shared address space)', 'https://100.64.0.1/jwks'],
      ['[::1] (IPv6 loopback)', 'https://[::1]/jwks'],
      ['[fe80::1] (IPv6 link-local)', 'https://[fe80::1]/jwks'],
      ['[fd00:ec2::254] (IPv6 metadata)', 'https://[fd00:ec2::254]/jwks'],
      ['0.0.0.0', 'https://0.0.0.0/jwks'],
    ])('PRIV-11: a jwks_uri at %s is 400 invalid_client_metadata at registration', async (_name, uri) => {
      const registered = await registerWithJwksUri(system, uri);
      expect(registered.status).toBe(400);
      expect(registered.body.error).toBe('invalid_client_metadata');
      expect(registered.body.error_description).toMatch(/jwks_uri/);
    });

    it('PRIV-11: an update that moves jwks_uri to a private address is refused too (RFC 7592 §2.2)', async () => {
      const created = await adminRequest(
        system,
        'POST',
        '/admin/clients',
        pkjwtDocument('moves', { jwks: { keys: [keys.jwk] } }),
      );
      expect(created.status).toBe(201);
      const { client_id } = (await created.json()) as { client_id: string };
      const res = await adminRequest(
        system,
        'PUT',
        `/admin/clients/${client_id}`,
        pkjwtDocument('moves', { jwks_uri: 'https://10.1.2.3/jwks' }),
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client_metadata');
    });

    describe('assertion audience', () => {
      let clientId: string;

      beforeAll(async () => {
        const created = await adminRequest(
          system,
          'POST',
          '/admin/clients',
          pkjwtDocument('audience', { jwks: { keys: [keys.jwk] } }),
        );
        clientId = ((await created.json()) as { client_id: string }).client_id;
      });

      it('PRIV-15: aud = the issuer identifier is accepted', async () => {
        const res = await tokenWith(system, await assertion(keys, clientId, system.issuer));
        expect(res.status).toBe(200);
      });

      it.each([
        ['the token endpoint URL', (issuer: string) => `${issuer}/token`],
        ['the introspection endpoint URL', (issuer: string) => `${issuer}/introspect`],
        ['the revocation endpoint URL', (issuer: string) => `${issuer}/revoke`],
        ['an array of the issuer and another audience', (issuer: string) => [issuer, 'https://rp.example']],
        ['an array of the issuer and the token endpoint', (issuer: string) => [issuer, `${issuer}/token`]],
        ['a single-valued array', (issuer: string) => [issuer]],
      ])('PRIV-15: aud = %s is 401 invalid_client', async (_name, aud) => {
        const res = await tokenWith(system, await assertion(keys, clientId, aud(system.issuer)));
        expect([res.status, res.error]).toEqual([401, 'invalid_client']);
      });
    });
  });

  describe('with an operator allow-list naming 127.0.0.1 and the legacy audience allowed', () => {
    let system: RunningSystem;
    let tls: SelfSignedCertificate;
    let jwksServer: HttpsServer;
    let port: number;
    let keys: Keys;
    let hits = 0;

    beforeAll(async () => {
      keys = await makeKeys();
      tls = selfSignedCertificate();
      jwksServer = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
        hits += 1;
        if (req.url === '/jwks') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keys: [keys.jwk] }));
        } else if (req.url === '/hang') {
          // Never answers: the fetch must give up on its own.
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
          res.write('{"keys":[');
          pump();
        } else if (req.url === '/redirect') {
          res.writeHead(302, { location: `https://127.0.0.1:${port}/jwks` });
          res.end();
        } else {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((ok) => jwksServer.listen(0, '127.0.0.1', ok));
      port = (jwksServer.address() as { port: number }).port;
      system = await startSystem({
        env: {
          OUTBOUND_ALLOW: '127.0.0.1',
          OUTBOUND_TIMEOUT_MS: '1000',
          CLIENT_ASSERTION_LEGACY_AUDIENCE: 'true',
          NODE_EXTRA_CA_CERTS: tls.certFile,
        },
      });
    }, 90000);

    afterAll(async () => {
      jwksServer?.closeAllConnections();
      jwksServer?.close();
      await system?.stop();
      tls?.dispose();
    }, 30000);

    async function clientAt(path: string): Promise<string> {
      const registered = await registerWithJwksUri(system, `https://127.0.0.1:${port}${path}`);
      expect(registered.status).toBe(201);
      return registered.body.client_id!;
    }

    it('PRIV-11: an allow-listed address is fetched and the client authenticates', async () => {
      const clientId = await clientAt('/jwks');
      const before = hits;
      const res = await tokenWith(system, await assertion(keys, clientId, system.issuer));
      expect(res.status).toBe(200);
      expect(hits).toBeGreaterThan(before);
    });

    it('PRIV-11: the allow-list names 127.0.0.1 only: ::1 and 10.0.0.1 are still refused', async () => {
      for (const uri of [`https://[::1]:${port}/jwks`, 'https://10.0.0.1/jwks']) {
        const registered = await registerWithJwksUri(system, uri);
        expect([uri, registered.status, registered.body.error]).toEqual([
          uri,
          400,
          'invalid_client_metadata',
        ]);
      }
    });

    const warningsAbout = (path: string) => registryWarnings(system, `:${port}${path}`);

    it('PRIV-11: a jwks_uri that never answers is 401 invalid_client within the time limit', async () => {
      const clientId = await clientAt('/hang');
      const res = await tokenWith(system, await assertion(keys, clientId, system.issuer));
      expect([res.status, res.error]).toEqual([401, 'invalid_client']);
      expect(res.elapsedMs).toBeLessThan(2500);
      expect((await warningsAbout('/hang')).join('\n')).toMatch(/timeout/i);
    });

    it('PRIV-11: a jwks_uri that sends 8 MiB is 401 invalid_client (size limit)', async () => {
      const clientId = await clientAt('/huge');
      const res = await tokenWith(system, await assertion(keys, clientId, system.issuer));
      expect([res.status, res.error]).toEqual([401, 'invalid_client']);
      expect((await warningsAbout('/huge')).join('\n')).toMatch(/exceeded max size|larger than/i);
    });

    it('PRIV-11: a redirect is not followed', async () => {
      const clientId = await clientAt('/redirect');
      const res = await tokenWith(system, await assertion(keys, clientId, system.issuer));
      expect([res.status, res.error]).toEqual([401, 'invalid_client']);
    });

    it('PRIV-15: with the legacy setting, aud = the token endpoint URL is accepted', async () => {
      const clientId = await clientAt('/jwks');
      const res = await tokenWith(system, await assertion(keys, clientId, `${system.issuer}/token`));
      expect(res.status).toBe(200);
    });

    it.each([
      ['the introspection endpoint URL', (issuer: string) => `${issuer}/introspect`],
      [
        'an array of the token endpoint and another audience',
        (issuer: string) => [`${issuer}/token`, 'https://rp.example'],
      ],
    ])('PRIV-15: with the legacy setting, aud = %s is still 401 invalid_client', async (_name, aud) => {
      const clientId = await clientAt('/jwks');
      const res = await tokenWith(system, await assertion(keys, clientId, aud(system.issuer)));
      expect([res.status, res.error]).toEqual([401, 'invalid_client']);
    });
  });
});
