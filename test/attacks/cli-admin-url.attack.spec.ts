import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { resolve } from 'node:path';

/**
 * The operator CLI's HTTP mode carries an administrator's bearer token (RFC 6750 §2.1) to the URL
 * it is given. An attacker who controls what answers there, or what the operator types as an id,
 * must not get the token sent anywhere else nor the command aimed at another resource.
 */

const CLI = resolve(process.cwd(), 'dist/apps/cli/src/main.js');
const TOKEN = 'operator-token-'.padEnd(48, 'x');

interface Seen {
  url: string;
  authorization: string | undefined;
}

function listen(answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{
  server: Server;
  url: string;
  seen: Seen[];
}> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    answer(req, res);
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      done({ server, url: `http://127.0.0.1:${port}`, seen });
    }),
  );
}

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ADMIN_ACCESS_TOKEN: TOKEN, ...env }, timeout: 20000 },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

describe('operator CLI, HTTP mode: the admin token goes to the named listener only', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  });

  it('a redirect from the admin URL is not followed: the token never reaches the other host', async () => {
    const elsewhere = await listen((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
    );
    const trap = await listen((req, res) =>
      res.writeHead(307, { location: `${elsewhere.url}${req.url ?? ''}` }).end(),
    );
    servers.push(elsewhere.server, trap.server);
    const r = await cli(['clients', 'list', '--json'], { ADMIN_URL: trap.url });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(trap.seen).toHaveLength(1);
    expect(elsewhere.seen).toEqual([]);
  });

  it('an id cannot climb out of its path segment (RFC 3986 §5.2.4) and the token is never in the URL', async () => {
    const admin = await listen((_req, res) =>
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":"not_found","error_description":"no such client"}'),
    );
    servers.push(admin.server);
    for (const id of ['../users', '..%2Fusers', 'a/../../b', 'x?limit=1', 'x#y']) {
      const r = await cli(['clients', 'show', id], { ADMIN_URL: admin.url });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/not_found/);
    }
    expect(admin.seen.map((s) => s.url)).toEqual([
      '/admin/clients/..%2Fusers',
      '/admin/clients/..%252Fusers',
      '/admin/clients/a%2F..%2F..%2Fb',
      '/admin/clients/x%3Flimit%3D1',
      '/admin/clients/x%23y',
    ]);
    for (const s of admin.seen) {
      expect(s.authorization).toBe(`Bearer ${TOKEN}`);
      expect(s.url).not.toContain(TOKEN);
    }
    // A whole segment of dots is refused before any request.
    for (const id of ['..', '.']) {
      const r = await cli(['clients', 'show', id], { ADMIN_URL: admin.url });
      expect(r.code).toBe(1);
    }
    expect(admin.seen).toHaveLength(5);
  });

  it('credentials in the admin URL and non-http schemes are refused', async () => {
    for (const url of ['http://user:pass@127.0.0.1:1', 'file:///etc/passwd', 'javascript:alert(1)']) {
      const r = await cli(['clients', 'list'], { ADMIN_URL: url });
      expect({ url, code: r.code }).toEqual({ url, code: 1 });
      expect(r.stderr).toMatch(/--admin-url/);
    }
  });
});
