import { exportJWK, generateKeyPair, type CryptoKey, type JWK, SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { eventsOfType } from '../support/authorize.js';
import { basic, freePort, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * Issue 20, items 6, 7 and 8, performed as an attacker would:
 * - text Postgres cannot store (an escaped lone surrogate in a JSON body, invalid UTF-8 in a form)
 *   is refused at the edge with 400, never a 500 with a stack trace in a service's log;
 * - a caller cannot choose the correlation id written into the hash-chained events: the server
 *   makes every id, and keeps the caller's only as `callerRequestId`;
 * - a resource server using libs/resource-guard answers within its fetch timeout when the
 *   authorization server hangs, and backs off instead of refetching the JWKS for every request.
 */
describe('the edge: text, correlation ids and the resource guard under attack (issue 20)', () => {
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };

  const adminHeaders = () => ({
    authorization: `Bearer ${system.adminToken}`,
    'content-type': 'application/json',
  });

  /** Every line any process wrote, stdout and stderr. */
  const everything = () => [...system.lines.values()].flat().join('\n') + '\n' + system.output.join('');
  /** What a stack trace looks like in a log line: a JSON `stack` field or V8's "    at " frames. */
  const STACK = /"stack"\s*:|\\n\s+at |\n\s+at [^\n]*\(/;

  beforeAll(async () => {
    system = await startSystem({ env: { LOG_LEVEL: 'log' } });
    client = await system.createClient([
      '--name',
      'edge caller',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  describe('lone surrogates and invalid UTF-8 (COST-06)', () => {
    /** JSON text with `\ud800`-style escapes: valid JSON, text no UTF-8 encoder can write. */
    const LONE = ['\\ud800', '\\udfff', 'a\\udc00b', '\\ud83d'];

    async function initialAccessToken(): Promise<string> {
      const res = await fetch(`${system.adminUrl}/admin/initial-access-tokens`, {
        method: 'POST',
        headers: adminHeaders(),
        body: JSON.stringify({ max_uses: 100 }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { initial_access_token: string }).initial_access_token;
    }

    const refused = async (res: Response) => {
      const body = (await res.json()) as { error?: string };
      return { status: res.status, error: body.error };
    };
    const badRequest = {
      status: 400,
      error: expect.stringMatching(/^(invalid_client_metadata|invalid_request)$/),
    };

    /** Registration documents carrying an escaped lone surrogate in a value, a key, a list and a nested object. */
    const documents = (s: string) => [
      `{"client_name":"${s}","grant_types":["client_credentials"],"scope":"read"}`,
      `{"client_name":"n","grant_types":["client_credentials"],"scope":"read","${s}":1}`,
      `{"client_name":"n","grant_types":["authorization_code"],"redirect_uris":["https://a.test/${s}"],"scope":"read"}`,
      `{"client_name":"n","grant_types":["client_credentials"],"scope":"read","contacts":["${s}@a.test"]}`,
      `{"client_name":"n","grant_types":["client_credentials"],"scope":"read","jwks":{"keys":[{"kty":"${s}"}]}}`,
      `{"client_name":"n","grant_types":["client_credentials"],"scope":"read ${s}"}`,
    ];

    it('POST /register (RFC 7591) with an escaped lone surrogate anywhere: 400, never 500', async () => {
      const token = await initialAccessToken();
      for (const s of LONE) {
        for (const body of documents(s)) {
          const res = await fetch(`${system.baseUrl}/register`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          });
          expect({ body, ...(await refused(res)) }).toEqual({ body, ...badRequest });
        }
      }
    });

    it('PUT /register/:id (RFC 7592) with an escaped lone surrogate: 400, and nothing changes', async () => {
      const token = await initialAccessToken();
      const doc = { client_name: 'self', grant_types: ['client_credentials'], scope: 'read' };
      const created = await fetch(`${system.baseUrl}/register`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(doc),
      });
      expect(created.status).toBe(201);
      const reg = (await created.json()) as Record<string, string>;
      const uri = reg.registration_client_uri!.replace(system.issuer, system.baseUrl);
      const res = await fetch(uri, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${reg.registration_access_token}`,
          'content-type': 'application/json',
        },
        body: `{"client_id":"${reg.client_id}","client_name":"\\ud800","grant_types":["client_credentials"],"scope":"read"}`,
      });
      expect(await refused(res)).toEqual(badRequest);
      const read = await fetch(uri, {
        headers: { authorization: `Bearer ${reg.registration_access_token}` },
      });
      expect(((await read.json()) as { client_name: string }).client_name).toBe('self');
    });

    it('POST /admin/clients, PUT /admin/clients/:id and POST /admin/users with an escaped lone surrogate: 400', async () => {
      for (const s of LONE) {
        for (const body of documents(s)) {
          const res = await fetch(`${system.adminUrl}/admin/clients`, {
            method: 'POST',
            headers: adminHeaders(),
            body,
          });
          expect({ body, ...(await refused(res)) }).toEqual({ body, ...badRequest });
        }
      }
      const put = await fetch(`${system.adminUrl}/admin/clients/${encodeURIComponent(client.client_id)}`, {
        method: 'PUT',
        headers: adminHeaders(),
        body: '{"client_name":"\\udbff","grant_types":["client_credentials"],"scope":"read"}',
      });
      expect(await refused(put)).toEqual(badRequest);
      for (const body of [
        '{"username":"mallory\\ud800","password":"correct horse battery staple"}',
        '{"username":"mallory","password":"correct horse battery staple","email":"m\\udc00@a.test"}',
        '{"username":"mallory","password":"correct horse battery staple","name":"\\ud83d"}',
        '{"username":"mallory","password":"correct \\ud800 staple"}',
      ]) {
        const user = await fetch(`${system.adminUrl}/admin/users`, {
          method: 'POST',
          headers: adminHeaders(),
          body,
        });
        expect({ body, ...(await refused(user)) }).toEqual({ body, ...badRequest });
      }
    });

    it('form parameters with percent-encoded surrogates or invalid UTF-8: 400 invalid_request at /token, /revoke, /introspect', async () => {
      for (const raw of ['%ED%A0%80', '%ED%BF%BF', '%F0%9F', '%C0%AF', '%FF']) {
        for (const path of ['/token', '/revoke', '/introspect']) {
          const body =
            path === '/token'
              ? `grant_type=client_credentials&scope=${raw}`
              : `token=${raw}&token_type_hint=access_token`;
          const res = await fetch(`${system.baseUrl}${path}`, {
            method: 'POST',
            headers: {
              authorization: basic(client.client_id, client.client_secret),
              'content-type': 'application/x-www-form-urlencoded',
            },
            body,
          });
          expect({ path, raw, ...(await refused(res)) }).toEqual({
            path,
            raw,
            status: 400,
            error: 'invalid_request',
          });
        }
      }
    });

    it('the authorization endpoint with a percent-encoded surrogate: 400, never 500', async () => {
      const res = await fetch(
        `${system.baseUrl}/authorize?response_type=code&client_id=${encodeURIComponent(client.client_id)}&state=%ED%A0%80`,
        { redirect: 'manual' },
      );
      expect(res.status).toBe(400);
      await res.text();
    });

    it('a private_key_jwt assertion whose sub is an escaped lone surrogate: 401 invalid_client, never 500', async () => {
      const b64 = (s: string) => Buffer.from(s).toString('base64url');
      const payload = `{"iss":"\\ud800","sub":"\\ud800","aud":"${system.issuer}","jti":"\\udc00","exp":${Math.floor(Date.now() / 1000) + 60}}`;
      const assertion = `${b64('{"alg":"ES256","kid":"\\ud800"}')}.${b64(payload)}.${b64('x'.repeat(64))}`;
      const res = await postForm(`${system.baseUrl}/token`, {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      expect(await refused(res)).toEqual({ status: 401, error: 'invalid_client' });
    });

    it('over the bus (the CLI, no HTTP edge): a metadata update escaping a lone surrogate is invalid_request', async () => {
      const failure = await system
        .cli([
          'clients',
          'update',
          client.client_id,
          '--metadata',
          '{"client_name":"\\ud800","grant_types":["client_credentials"],"scope":"read"}',
        ])
        .then(
          () => null,
          (err: { stderr?: string }) => String(err.stderr),
        );
      expect(failure).toMatch(/invalid_request|invalid_client_metadata/);
      expect(failure).not.toMatch(/server_error/);
    });

    it('after all of the above: no process logged a stack trace, and nothing answered 500', async () => {
      await new Promise((r) => setTimeout(r, 500));
      const logs = everything();
      const stack = STACK.exec(logs);
      expect(stack ? logs.slice(Math.max(0, stack.index - 400), stack.index + 400) : null).toBeNull();
      const served = [...system.lines.values()]
        .flat()
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as { msg?: string; status?: number; route?: string }];
          } catch {
            return [];
          }
        })
        .filter((l) => l.msg === 'http request');
      expect(served.length).toBeGreaterThan(50);
      expect(served.filter((l) => (l.status ?? 0) >= 500)).toEqual([]);
    });
  });

  describe('correlation ids (COST-07)', () => {
    const clientCredentials = (headers: Record<string, string>) =>
      postForm(
        `${system.baseUrl}/token`,
        { grant_type: 'client_credentials', scope: 'read' },
        { authorization: basic(client.client_id, client.client_secret), ...headers },
      );

    it("a caller's X-Correlation-Id is neither the id answered nor the id in the events' metadata", async () => {
      const victim = `victim-${randomBytes(6).toString('hex')}`;
      const res = await clientCredentials({ 'x-correlation-id': victim });
      expect(res.status).toBe(200);
      const { access_token } = (await res.json()) as { access_token: string };
      const ours = res.headers.get('x-correlation-id');
      expect(ours).toMatch(/^[0-9a-f-]{36}$/);
      expect(ours).not.toBe(victim);
      const jti = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).jti as string;
      const issued = (await eventsOfType<{ jti: string }>(system, 'AccessTokenIssued')).find(
        (e) => e.data.jti === jti,
      );
      expect(issued?.metadata).toMatchObject({ correlationId: ours, callerRequestId: victim });
      expect(issued?.metadata.correlationId).not.toBe(victim);
    });

    it('one caller id sent twice (X-Correlation-Id, then X-Request-Id) names two requests apart', async () => {
      const reused = `reused-${randomBytes(6).toString('hex')}`;
      const first = await clientCredentials({ 'x-correlation-id': reused });
      const second = await clientCredentials({ 'x-request-id': reused });
      expect([first.status, second.status]).toEqual([200, 200]);
      await Promise.all([first.text(), second.text()]);
      const ids = [first.headers.get('x-correlation-id'), second.headers.get('x-correlation-id')];
      expect(ids).not.toContain(reused);
      expect(new Set(ids).size).toBe(2);
      const tagged = (await eventsOfType(system, 'AccessTokenIssued')).filter(
        (e) => e.metadata.callerRequestId === reused,
      );
      expect(tagged.map((e) => e.metadata.correlationId).sort()).toEqual([...ids].sort());
      const stolen = (await eventsOfType(system, 'AccessTokenIssued')).filter(
        (e) => e.metadata.correlationId === reused,
      );
      expect(stolen).toEqual([]);
    });

    it("the admin plane too: a client created with the caller's id carries the server's in its event", async () => {
      const victim = `admin-${randomBytes(6).toString('hex')}`;
      const res = await fetch(`${system.adminUrl}/admin/clients`, {
        method: 'POST',
        headers: { ...adminHeaders(), 'x-correlation-id': victim },
        body: JSON.stringify({ client_name: 'traced', grant_types: ['client_credentials'], scope: 'read' }),
      });
      expect(res.status).toBe(201);
      const { client_id } = (await res.json()) as { client_id: string };
      const ours = res.headers.get('x-correlation-id');
      expect(ours).not.toBe(victim);
      const registered = (await eventsOfType<{ clientId: string }>(system, 'ClientRegistered')).find(
        (e) => e.data.clientId === client_id,
      );
      expect(registered?.metadata).toMatchObject({ correlationId: ours, callerRequestId: victim });
    });

    it("the gateway's log line keeps both: the server's correlationId and the caller's callerRequestId", async () => {
      const victim = `logged-${randomBytes(6).toString('hex')}`;
      const res = await clientCredentials({ 'x-correlation-id': victim });
      await res.text();
      await new Promise((r) => setTimeout(r, 300));
      const lines = system.lines
        .get('gateway')!
        .filter((l) => l.includes(victim))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) {
        expect(l.correlationId).toBe(res.headers.get('x-correlation-id'));
        expect(l.callerRequestId).toBe(victim);
      }
    });
  });

  describe('the resource guard against a hanging and a failing authorization server (COST-08)', () => {
    type Mode = 'hang' | 'fail' | 'ok';
    interface StandIn {
      issuer: string;
      rs: string;
      mode: Mode;
      jwksFetches: number;
      server: Server;
    }
    let privateKey: CryptoKey;
    let jwk: JWK;
    const hanging: ServerResponse[] = [];
    const standIns: StandIn[] = [];

    /**
     * A stand-in authorization server whose JWKS hangs, fails or answers as `mode` says, and a
     * resource server (apps/resource-server, libs/resource-guard) that trusts it.
     */
    async function standIn(mode: Mode, name: string): Promise<StandIn> {
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const state = { issuer, rs: '', mode, jwksFetches: 0 } as StandIn;
      state.server = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/.well-known/oauth-authorization-server') {
          res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
        } else if (req.url === '/jwks') {
          state.jwksFetches++;
          if (state.mode === 'hang') {
            hanging.push(res);
          } else if (state.mode === 'fail') {
            res.statusCode = 500;
            res.end('{"error":"server_error"}');
          } else {
            res.setHeader('cache-control', 'max-age=300');
            res.end(JSON.stringify({ keys: [jwk] }));
          }
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
      await new Promise<void>((ok) => state.server.listen(port, '127.0.0.1', ok));
      const rsPort = await freePort();
      state.rs = `http://127.0.0.1:${rsPort}`;
      await system.launch('resource-server', name, {
        ISSUER: issuer,
        RESOURCE_SERVER_PORT: String(rsPort),
        RESOURCE_SERVER_AUDIENCE: state.rs,
      });
      await system.waitHttp(`${state.rs}/health`);
      standIns.push(state);
      return state;
    }

    let hung: StandIn;
    let failing: StandIn;

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256');
      privateKey = pair.privateKey;
      jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      hung = await standIn('hang', 'resource-server-hung');
      failing = await standIn('fail', 'resource-server-failing');
    }, 60000);

    afterAll(async () => {
      for (const res of hanging) res.destroy();
      for (const s of standIns) {
        s.server.closeAllConnections();
        await new Promise((ok) => s.server.close(ok));
      }
    });

    const sign = (target: StandIn) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ sub: 'u1', client_id: 'c1', jti: `j${Math.random()}`, scope: 'read' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
        .setIssuer(target.issuer)
        .setAudience(target.rs)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(privateKey);
    };

    /** One protected request; its status and how long it took (null: no answer within 15 s). */
    async function protectedCall(target: StandIn): Promise<{ status: number | null; ms: number }> {
      const started = Date.now();
      try {
        const res = await fetch(`${target.rs}/api/whoami`, {
          headers: { authorization: `Bearer ${await sign(target)}` },
          signal: AbortSignal.timeout(15000),
        });
        await res.text();
        return { status: res.status, ms: Date.now() - started };
      } catch {
        return { status: null, ms: Date.now() - started };
      }
    }

    it('a JWKS that never answers: 503 within the fetch timeout, and the next request answers at once without a new fetch', async () => {
      const first = await protectedCall(hung);
      expect(first.status).toBe(503);
      expect(first.ms).toBeLessThan(10000);
      const before = hung.jwksFetches;
      const second = await protectedCall(hung);
      expect(second.status).toBe(503);
      expect(second.ms).toBeLessThan(1000);
      expect(hung.jwksFetches).toBe(before);
    }, 60000);

    it('a JWKS answering 500: 40 requests, 503 each, and at most 3 fetches (a back-off, not a fetch per request)', async () => {
      const answers: (number | null)[] = [];
      for (let i = 0; i < 40; i++) answers.push((await protectedCall(failing)).status);
      expect(new Set(answers)).toEqual(new Set([503]));
      expect(failing.jwksFetches).toBeLessThanOrEqual(3);
    }, 60000);

    it('once the JWKS answers again, tokens are accepted after the back-off', async () => {
      failing.mode = 'ok';
      const deadline = Date.now() + 45000;
      let status: number | null = null;
      while (Date.now() < deadline) {
        status = (await protectedCall(failing)).status;
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(status).toBe(200);
    }, 60000);
  });
});
