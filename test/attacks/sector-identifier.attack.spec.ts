import { selfSignedCertificate, type SelfSignedCertificate } from '#lib/testing';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import { type RunningSystem, startSystem } from '../support/system.js';

/**
 * The attacker registers a sector_identifier_uri (OpenID Connect Core §8.1, Registration §5) that
 * aims the registry's fetch inward (RFC 9700 §4.16), or a document that does not vouch for its
 * redirect URIs, to borrow another sector's pairwise identifiers. The operator allow-lists
 * 127.0.0.1, where the test's HTTPS server answers; [::1] stays refused, and a listener there
 * counts the connections it is offered. Private and link-local literals are never connected to.
 */
describe('sector_identifier_uri fetches (Registration §5, RFC 9700 §4.16)', () => {
  let system: RunningSystem;
  let tls: SelfSignedCertificate;
  let server: HttpsServer;
  let port: number;
  let hits: string[] = [];
  let inward: Server;
  let inwardPort: number;
  let inwardConnections = 0;
  const redirects = ['https://a.test/cb', 'https://b.test/cb'];

  beforeAll(async () => {
    tls = selfSignedCertificate();
    server = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      hits.push(req.url!);
      const json = (body: string) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (req.url === '/sector.json') json(JSON.stringify([...redirects, 'https://c.test/cb']));
      else if (req.url === '/partial.json') json(JSON.stringify([redirects[0]]));
      else if (req.url === '/object.json') json(JSON.stringify({ redirect_uris: redirects }));
      else if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>not a list</html>');
      } else if (req.url === '/huge.json') json(JSON.stringify([...redirects, 'x'.repeat(64 * 1024)]));
      else if (req.url === '/redirect') {
        res.writeHead(302, { location: `https://127.0.0.1:${port}/sector.json` });
        res.end();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
    inward = createServer((socket) => {
      inwardConnections += 1;
      socket.destroy();
    });
    await new Promise<void>((ok) => inward.listen(0, '::1', ok));
    inwardPort = (inward.address() as { port: number }).port;
    system = await startSystem({
      env: {
        OUTBOUND_ALLOW: '127.0.0.1',
        OUTBOUND_TIMEOUT_MS: '1000',
        OUTBOUND_MAX_BYTES: '4096',
        NODE_EXTRA_CA_CERTS: tls.certFile,
      },
    });
  }, 90000);

  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    inward?.close();
    await system?.stop();
    tls?.dispose();
  }, 30000);

  const document = (sectorIdentifierUri: string, extra: Record<string, unknown> = {}) => ({
    client_name: 'sector',
    grant_types: ['authorization_code'],
    redirect_uris: redirects,
    scope: 'openid',
    subject_type: 'pairwise',
    sector_identifier_uri: sectorIdentifierUri,
    ...extra,
  });

  async function admin(method: string, path: string, body: unknown) {
    const res = await fetch(`${system.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: string; error_description?: string },
    };
  }

  const at = (path: string) => `https://127.0.0.1:${port}${path}`;

  it('a document listing every redirect URI registers the pairwise client on two hosts', async () => {
    const res = await admin('POST', '/admin/clients', document(at('/sector.json')));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ subject_type: 'pairwise', sector_identifier_uri: at('/sector.json') });
    expect(hits).toContain('/sector.json');
  });

  it.each([
    ['[::1] (loopback, not allow-listed)', () => `https://[::1]:${inwardPort}/sector.json`],
    ['localhost (a name that resolves to loopback)', () => `https://localhost:${inwardPort}/sector.json`],
    ['10.0.0.1 (RFC 1918)', () => 'https://10.0.0.1/sector.json'],
    ['169.254.169.254 (cloud metadata)', () => 'https://169.254.169.254/latest/sector.json'],
  ])(
    'PRIV-11: a sector_identifier_uri at %s is 400 invalid_client_metadata and nothing connects',
    async (_name, uri) => {
      const res = await admin('POST', '/admin/clients', document(uri()));
      expect([res.status, res.body.error]).toEqual([400, 'invalid_client_metadata']);
      expect(res.body.error_description).toMatch(/sector_identifier_uri/);
      // The reason (what the name resolved to) is the operator's, not the caller's.
      expect(res.body.error_description).not.toMatch(/resolves|::1|127\.0\.0\.1/);
      expect(inwardConnections).toBe(0);
    },
  );

  it('PRIV-11: an http sector_identifier_uri is refused, and not fetched', async () => {
    const before = hits.length;
    const res = await admin('POST', '/admin/clients', document(`http://127.0.0.1:${port}/sector.json`));
    expect([res.status, res.body.error]).toEqual([400, 'invalid_client_metadata']);
    expect(res.body.error_description).toMatch(/https/);
    expect(hits.length).toBe(before);
  });

  it.each([
    ['does not list a redirect URI', '/partial.json', /not listed/],
    ['is a JSON object', '/object.json', /array/],
    ['is not JSON', '/html', /not JSON/],
    ['is larger than OUTBOUND_MAX_BYTES', '/huge.json', /could not be fetched/],
    ['is a redirect (not followed)', '/redirect', /could not be fetched/],
    ['is a 404', '/missing', /could not be fetched/],
  ])('a document that %s is 400 invalid_client_metadata', async (_name, path, reason) => {
    const res = await admin('POST', '/admin/clients', document(at(path)));
    expect([res.status, res.body.error]).toEqual([400, 'invalid_client_metadata']);
    expect(res.body.error_description).toMatch(reason);
  });

  it('an update (RFC 7592 §2.2) re-fetches: a redirect URI the document does not list is refused', async () => {
    const created = await admin('POST', '/admin/clients', document(at('/sector.json')));
    expect(created.status).toBe(201);
    const id = String(created.body.client_id);
    hits = [];
    const moved = await admin('PUT', `/admin/clients/${id}`, {
      ...document(at('/sector.json')),
      redirect_uris: [...redirects, 'https://evil.test/cb'],
    });
    expect([moved.status, moved.body.error]).toEqual([400, 'invalid_client_metadata']);
    expect(hits).toEqual(['/sector.json']);
  });
});
