import fc from 'fast-check';
import {
  destroyAgent,
  type FuzzRequest,
  type RawAnswer,
  requestArbitrary,
  sendRaw,
} from '../support/fuzz/requests.js';
import { ROUTES } from '../support/fuzz/routes.js';
import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * Issue 10: property-based fuzzing of every HTTP endpoint of the gateway (test/support/fuzz/
 * routes.ts) with fast-check, against the running system: random methods, content types,
 * encodings, duplicated, oversized and hostile parameters (checklist section 15, INP). Never a
 * 5xx, never a crash, no internals in an error body, memory flat over the run. Then one test per
 * INP case with the checklist's expected answer.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 4000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const CONCURRENCY = 4;
/** Largest RSS growth of one process over the run (after warm-up) that still counts as flat. */
const RSS_GROWTH_LIMIT_MB = Number(process.env.FUZZ_RSS_GROWTH_MB ?? 96);

describe('HTTP fuzzing of every endpoint (issue 10, checklist INP)', () => {
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };
  let victim: { client_id: string; client_secret: string };
  let accessToken: string;

  beforeAll(async () => {
    // Client authentication is throttled per source address (decision 13) and every fuzzed request
    // comes from this one address, many with wrong credentials on purpose: the threshold is raised
    // out of the way (test/attacks/throttling.attack.spec.ts tests it).
    system = await startSystem({ rpcTimeoutMs: 10000, env: { CLIENT_AUTH_MAX_FAILURES: '10000' } });
    client = await system.createClient([
      '--name',
      'fuzz',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
    victim = await system.createClient([
      '--name',
      'fuzz-victim',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
    accessToken = await newToken();
  }, 120000);

  afterAll(async () => {
    destroyAgent();
    await system?.stop();
  }, 30000);

  const auth = () => ({ authorization: basic(client.client_id, client.client_secret) });

  async function newToken(): Promise<string> {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      auth(),
    );
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** Resident memory of every process, MB, from its /metrics. */
  async function rssMb(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const name of system.opsPorts.keys()) {
      const text = await (await fetch(system.opsUrl(name, '/metrics'))).text();
      const m = /^process_resident_memory_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(text);
      out[name] = m ? Number(m[1]) / 1024 / 1024 : NaN;
    }
    return out;
  }

  /** Internals that must never reach a client (checklist INP-12). */
  function leaks(body: string): string | null {
    const patterns = [
      /at [^\s()]+\.(?:js|ts):\d+/,
      /node_modules|\/dist\/|\/apps\/|\/libs\//,
      /QueryFailedError|duplicate key|relation "|syntax error at|SELECT .* FROM/i,
      /ECONNREFUSED|ETIMEDOUT|TypeError|ReferenceError|RangeError/,
      new RegExp(system.env.NATS_SUBJECT_PREFIX!.replace(/[-]/g, '\\-')),
      new RegExp(system.env.DATABASE_URL!.split('/').pop()!),
    ];
    return patterns.find((p) => p.test(body))?.source ?? null;
  }

  /** Where a path is served: the admin plane has its own listener. */
  const listenerOf = (path: string) =>
    path.startsWith('/admin') || path.startsWith('/openapi.json') ? system.adminUrl : system.baseUrl;

  function problemOf(req: FuzzRequest, res: RawAnswer): string | null {
    if (res.error?.startsWith('client:')) return null;
    if (res.error && req.oversized) return null;
    if (res.error) return `connection failed (${res.error})`;
    if (res.status >= 500) return `${res.status} ${res.body.slice(0, 200)}`;
    if (res.status >= 400) {
      const leak = leaks(res.body);
      if (leak) return `${res.status} body leaks /${leak}/: ${res.body.slice(0, 200)}`;
    }
    return null;
  }

  it('fuzz: random requests to every endpoint never get a 5xx, leak nothing, crash nothing, and memory stays flat', async () => {
    const requests = fc.sample(
      requestArbitrary(ROUTES, {
        clientId: client.client_id,
        clientSecret: client.client_secret,
        victimId: victim.client_id,
        adminToken: system.adminToken,
        accessToken,
      }),
      { numRuns: RUNS, seed: SEED },
    );
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let fiveXx = 0;
    let clientSkipped = 0;
    let closedOversized = 0;
    let warm: Record<string, number> = {};
    const started = Date.now();
    for (let i = 0; i < requests.length; i += CONCURRENCY) {
      if (i >= requests.length / 5 && Object.keys(warm).length === 0) warm = await rssMb();
      const batch = requests.slice(i, i + CONCURRENCY);
      const answers = await Promise.all(batch.map((r) => sendRaw(listenerOf(r.path), r)));
      answers.forEach((res, j) => {
        if (res.error?.startsWith('client:')) clientSkipped++;
        if (res.error && batch[j]!.oversized) closedOversized++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) fiveXx++;
        const problem = problemOf(batch[j]!, res);
        if (problem && problems.length < 50) problems.push(`${batch[j]!.label} → ${problem}`);
      });
      if (system.exits.length > 0) break;
    }
    const end = await rssMb();
    const seconds = (Date.now() - started) / 1000;
    const growth = Object.fromEntries(Object.keys(end).map((k) => [k, end[k]! - (warm[k] ?? end[k]!)]));
    process.stdout.write(
      [
        '',
        '==================== fuzzing figures ====================',
        `seed:              ${SEED} (FUZZ_SEED=${SEED} repeats this run)`,
        `routes:            ${ROUTES.length} (${ROUTES.map((r) => r.path).join(' ')})`,
        `requests:          ${requests.length} in ${seconds.toFixed(0)} s (${clientSkipped} refused by node:http before sending)`,
        `5xx:               ${fiveXx}`,
        `closed oversized:  ${closedOversized} (oversized requests the server closed before reading them whole)`,
        `statuses:          ${[...statuses]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
        `problems:          ${problems.length}`,
        `processes exited:  ${system.exits.length}`,
        'RSS, MB (after warm-up → end):',
        ...Object.keys(end).map(
          (k) =>
            `  ${k.padEnd(16)} ${(warm[k] ?? NaN).toFixed(0)} → ${end[k]!.toFixed(0)} (${growth[k]! >= 0 ? '+' : ''}${growth[k]!.toFixed(0)})`,
        ),
        ...problems.slice(0, 20).map((p) => `  ${p}`),
        '=========================================================',
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(fiveXx).toBe(0);
    expect(system.exits).toEqual([]);
    expect(requests.length - clientSkipped).toBeGreaterThan(RUNS * 0.9);
    for (const mb of Object.values(growth)) expect(mb).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    // The system still works.
    await stillWorks();
  }, 600000);

  // ------------------------------------------------------------ the INP cases, one by one

  const FORM_ENDPOINTS = ['/token', '/introspect', '/revoke'];
  const send = (method: string, path: string, body = '', headers: Record<string, string> = {}) =>
    sendRaw(path.startsWith('/admin') ? system.adminUrl : system.baseUrl, {
      method,
      path,
      headers,
      body: Buffer.from(body, 'latin1'),
      oversized: false,
      label: path,
    });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const authorizeAbsent = async () => (await send('GET', '/authorize?response_type=code')).status === 404;

  async function stillWorks(): Promise<void> {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      auth(),
    );
    expect(`${res.status} ${await res.text()}`).toMatch(/^200 /);
  }

  function expectInvalidRequest(res: RawAnswer, statuses = [400]): void {
    expect(statuses).toContain(res.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect((JSON.parse(res.body) as { error: string }).error).toBe('invalid_request');
  }

  it('INP-01: 100 KB state, scope or client_id in a query: 414, 431 or 400, and the next request works', async () => {
    const big = 'A'.repeat(100 * 1024);
    const absent = await authorizeAbsent();
    for (const name of ['state', 'scope', 'client_id']) {
      for (const path of ['/authorize', '/jwks', '/.well-known/oauth-authorization-server', '/token']) {
        const res = await send('GET', `${path}?response_type=code&${name}=${big}`);
        const allowed = [
          400,
          414,
          431,
          ...(path === '/token' ? [405] : []),
          ...(path === '/authorize' ? [302, 303] : []),
        ];
        if (!(path === '/authorize' && absent && res.status === 404))
          expect([path, res.status, res.error, allowed.includes(res.status)]).toEqual([
            path,
            res.status,
            res.error,
            true,
          ]);
        expect(res.status).toBeLessThan(500);
      }
    }
    await stillWorks();
  });

  it('INP-02: 1 MB and 20 MB bodies to /token, /introspect and /revoke: 413 (or 400 invalid_request), memory flat', async () => {
    const before = await rssMb();
    for (const path of FORM_ENDPOINTS) {
      for (const size of [1024 * 1024, 20 * 1024 * 1024]) {
        const res = await send('POST', path, `token=${'a'.repeat(size)}`, { ...form, ...auth() });
        if (res.error) {
          // The server may close the connection once the limit is passed, before the body is sent.
          expect(res.error).toMatch(/EPIPE|ECONNRESET/);
        } else {
          expectInvalidRequest(res, [400, 413]);
        }
      }
    }
    const after = await rssMb();
    expect(after.gateway! - before.gateway!).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    expect(system.exits).toEqual([]);
    await stillWorks();
  });

  it('INP-03: broken percent-encoding is 400 invalid_request at every form endpoint', async () => {
    for (const path of FORM_ENDPOINTS) {
      for (const bad of ['state=%', 'state=%G1', 'scope=%E0%A4%A', 'client_id=%ZZ']) {
        expectInvalidRequest(
          await send('POST', path, `token=x&grant_type=client_credentials&${bad}`, { ...form, ...auth() }),
        );
      }
    }
  });

  it('INP-04: invalid UTF-8 (%FF, overlong %C0%AF, lone surrogate %ED%A0%80) is 400 invalid_request', async () => {
    for (const path of FORM_ENDPOINTS) {
      for (const bad of ['%FF', '%C0%AF', '%ED%A0%80']) {
        for (const name of ['state', 'scope', 'username', 'code_verifier']) {
          expectInvalidRequest(
            await send('POST', path, `token=x&grant_type=client_credentials&${name}=${bad}`, {
              ...form,
              ...auth(),
            }),
          );
        }
      }
    }
  });

  it('INP-05: a NUL byte in client_id, state, username, redirect_uri or token is 400, never 500', async () => {
    for (const path of FORM_ENDPOINTS) {
      for (const name of ['client_id', 'state', 'username', 'redirect_uri', 'token']) {
        const base = new URLSearchParams({ grant_type: 'client_credentials', token: 'x' });
        base.delete(name);
        expectInvalidRequest(
          await send('POST', path, `${base.toString()}&${name}=a%00b`, { ...form, ...auth() }),
        );
      }
    }
  });

  it('INP-06: JSON where a form is expected, and a form content type carrying JSON: 400 invalid_request', async () => {
    for (const path of FORM_ENDPOINTS) {
      const json = JSON.stringify({ grant_type: 'client_credentials', token: accessToken });
      expectInvalidRequest(await send('POST', path, json, { 'content-type': 'application/json', ...auth() }));
      expectInvalidRequest(await send('POST', path, json, { ...form, ...auth() }));
    }
  });

  it('INP-07: malformed JSON to registration and admin (unclosed, 10,000 levels, NUL, duplicate keys): 400, never 500', async () => {
    const bodies = [
      '{',
      '['.repeat(10000) + ']'.repeat(10000),
      '{"client_name":"a\\u0000b","grant_types":["client_credentials"]}',
      '{"client_name":"a","client_name":"b","grant_types":["client_credentials"],"redirect_uris":[]}',
    ];
    const targets: [string, string, Record<string, string>][] = [
      ['POST', '/register', {}],
      ['POST', '/admin/clients', { authorization: `Bearer ${system.adminToken}` }],
      ['PUT', '/admin/clients/fuzz-unknown-client', { authorization: `Bearer ${system.adminToken}` }],
    ];
    for (const [method, path, headers] of targets) {
      for (const body of bodies.slice(0, 3)) {
        const res = await send(method, path, body, { 'content-type': 'application/json', ...headers });
        // /register without an initial access token may refuse first (401).
        expect([method, path, body.slice(0, 20), res.status, res.body]).toEqual([
          method,
          path,
          body.slice(0, 20),
          res.status < 400 || res.status > 401 ? 400 : res.status,
          res.body,
        ]);
        expect(['invalid_request', 'invalid_client_metadata', 'invalid_token']).toContain(
          (JSON.parse(res.body) as { error: string }).error,
        );
      }
      const dup = await send(method, path, bodies[3]!, { 'content-type': 'application/json', ...headers });
      expect(dup.status).toBeLessThan(500);
    }
    await stillWorks();
  });

  it('INP-08: bracket names (grant_type[], code[a], scope[0], client_id[$ne]) are 400 invalid_request', async () => {
    for (const path of FORM_ENDPOINTS) {
      for (const bad of [
        'grant_type[]=client_credentials',
        'code[a]=b',
        'scope[0]=read',
        'client_id[$ne]=x',
      ]) {
        expectInvalidRequest(await send('POST', path, `token=x&${bad}`, { ...form, ...auth() }));
      }
    }
  });

  it('INP-09: prototype-pollution keys in query and body: 400 or ignored; the next request is unaffected', async () => {
    for (const path of FORM_ENDPOINTS) {
      for (const bad of ['__proto__[admin]=1', 'constructor[prototype][x]=1']) {
        const res = await send('POST', `${path}?${bad}`, `token=x&grant_type=client_credentials&${bad}`, {
          ...form,
          ...auth(),
        });
        expect(res.status).toBeLessThan(500);
      }
    }
    const res = await postForm(`${system.baseUrl}/introspect`, { token: accessToken }, auth());
    expect(await res.json()).toMatchObject({ active: true, client_id: client.client_id });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('INP-10: CR LF in a parameter never becomes a header', async () => {
    const absent = await authorizeAbsent();
    for (const path of ['/authorize', '/token', '/jwks']) {
      const res = await send(
        'GET',
        `${path}?response_type=code&client_id=${client.client_id}&state=x%0D%0ALocation:%20https://evil.test`,
      );
      expect(res.status).toBeLessThan(500);
      if (path === '/authorize' && absent) expect(res.status).toBe(404);
      // The injected text may only appear percent-encoded inside a Location value, never as a header.
      expect(String(res.headers.location ?? '')).not.toMatch(/^https:\/\/evil\.test/);
      expect(String(res.headers.location ?? '')).not.toMatch(/[\r\n]/);
      expect(
        Object.entries(res.headers).filter(([h, v]) => h !== 'location' && /evil\.test/.test(String(v))),
      ).toEqual([]);
    }
  });

  it('INP-11: 10,000 a=b pairs are refused fast (400 invalid_request)', async () => {
    for (const path of FORM_ENDPOINTS) {
      const started = Date.now();
      const res = await send('POST', path, Array.from({ length: 10000 }, () => 'a=b').join('&'), {
        ...form,
        ...auth(),
      });
      expect(Date.now() - started).toBeLessThan(2000);
      expectInvalidRequest(res, [400, 413]);
    }
  });

  it('INP-12: no 4xx body carries a stack trace, SQL, NATS subject or internal name', async () => {
    const bodies: string[] = [];
    for (const path of FORM_ENDPOINTS) {
      bodies.push((await send('POST', path, 'token=%', { ...form, ...auth() })).body);
      bodies.push((await send('POST', path, 'token=x', { ...form, authorization: 'Basic !!!' })).body);
      bodies.push((await send('GET', path)).body);
    }
    bodies.push(
      (
        await send('POST', '/admin/clients', '{', {
          'content-type': 'application/json',
          authorization: `Bearer ${system.adminToken}`,
        })
      ).body,
    );
    bodies.push(
      (await send('GET', '/admin/tokens/%00', '', { authorization: `Bearer ${system.adminToken}` })).body,
    );
    bodies.push((await send('GET', '/nowhere')).body);
    expect(bodies.length).toBe(12);
    expect(bodies.map((b) => leaks(b)).filter((l) => l !== null)).toEqual([]);
  });

  it('INP-13: X-HTTP-Method-Override: GET and _method=GET on POST /token are ignored', async () => {
    const res = await send('POST', '/token', 'grant_type=client_credentials&scope=read&_method=GET', {
      ...form,
      ...auth(),
      'x-http-method-override': 'GET',
    });
    // Handled as the POST it is: the token is issued (a GET would be 405).
    expect(`${res.status} ${res.body}`).toMatch(/^200 /);
    expect(JSON.parse(res.body)).toHaveProperty('access_token');
  });
});
