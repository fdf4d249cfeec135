import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Issue 8, operating the system: per-app health and Prometheus metrics on the operations port,
 * structured JSON logs and events carrying the server's correlation id (and the caller's request id
 * beside it, untrusted), graceful shutdown.
 */

/** One sample of a Prometheus text exposition: the value of `name{labels…}`, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return 0;
}

/** The processes a token request and a readiness check of the gateway pass through. */
const ON_THE_WAY = ['gateway', 'token', 'client-registry', 'introspection', 'consent'];

function jsonLines(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('operations: health, metrics, logs and correlation ids (issue 8)', () => {
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };
  const scrape = async (name: string) => (await fetch(system.opsUrl(name, '/metrics'))).text();

  beforeAll(async () => {
    system = await startSystem({ env: { LOG_LEVEL: 'log' } });
    client = await system.createClient([
      '--name',
      'ops',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
      '--default-scope',
      'read',
    ]);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  const url = (path: string) =>
    `${path.startsWith('/admin') || path === '/openapi.json' ? system.adminUrl : system.baseUrl}${path}`;
  const auth = () => ({ authorization: basic(client.client_id, client.client_secret) });

  it('every app answers /health/live and /health/ready on its operations port, checking Postgres and NATS', async () => {
    for (const app of ['client-registry', 'consent', 'token', 'introspection']) {
      const live = await fetch(system.opsUrl(app, '/health/live'));
      expect(live.status).toBe(200);
      const ready = await fetch(system.opsUrl(app, '/health/ready'));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: 'up', nats: 'up' } });
    }
    const gateway = await fetch(system.opsUrl('gateway', '/health/ready'));
    expect(gateway.status).toBe(200);
    expect(await gateway.json()).toEqual({ status: 'ok', checks: { nats: 'up' } });
  });

  it('a token flow moves the request, token, event-append and NATS counters in Prometheus format', async () => {
    const before = {
      gateway: await scrape('gateway'),
      token: await scrape('token'),
      registry: await scrape('client-registry'),
      introspection: await scrape('introspection'),
    };
    const issued = await postForm(url('/token'), { grant_type: 'client_credentials' }, auth());
    expect(issued.status).toBe(200);
    const { access_token } = (await issued.json()) as { access_token: string };
    expect((await postForm(url('/introspect'), { token: access_token }, auth())).status).toBe(200);
    expect((await postForm(url('/revoke'), { token: access_token }, auth())).status).toBe(200);
    const after = {
      gateway: await scrape('gateway'),
      token: await scrape('token'),
      registry: await scrape('client-registry'),
      introspection: await scrape('introspection'),
    };
    const moved = (which: keyof typeof before, name: string, labels: Record<string, string> = {}) =>
      sample(after[which], name, labels) - sample(before[which], name, labels);

    const tokenRoute = { route: '/token', method: 'POST', grant_type: 'client_credentials' };
    expect(moved('gateway', 'authz_http_requests_total', { ...tokenRoute, status: '200' })).toBe(1);
    expect(moved('gateway', 'authz_http_request_duration_seconds_count', tokenRoute)).toBe(1);
    expect(
      moved('gateway', 'authz_http_request_duration_seconds_count', { ...tokenRoute, status: '2xx' }),
    ).toBe(1);
    expect(
      moved('gateway', 'authz_http_requests_total', { route: '/revoke', method: 'POST', status: '200' }),
    ).toBe(1);
    expect(
      moved('gateway', 'authz_nats_request_duration_seconds_count', {
        subject: 'token.grant',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(after.gateway).toContain('# TYPE authz_nats_request_timeouts_total counter');

    expect(moved('token', 'authz_tokens_issued_total', { grant_type: 'client_credentials' })).toBe(1);
    // The token service owns access-token streams: it appends the issuance and the revocation.
    expect(moved('token', 'authz_event_append_duration_seconds_count')).toBe(2);
    expect(moved('token', 'authz_event_append_batch_size_sum')).toBe(2);
    expect(
      moved('token', 'authz_nats_requests_handled_total', { subject: 'token.grant', outcome: 'ok' }),
    ).toBe(1);
    // Issue 9: secret clients are authenticated from the token and introspection services' client
    // directories; the registry is not on the token, introspection or revocation path.
    expect(
      moved('registry', 'authz_nats_requests_handled_total', {
        subject: 'client.authenticate',
        outcome: 'ok',
      }),
    ).toBe(0);

    expect(moved('introspection', 'authz_tokens_revoked_total')).toBe(1);
    expect(after.introspection).toMatch(
      /^authz_projection_lag_events\{projection="token_state",app="introspection"\} \d+$/m,
    );
    expect(after.token).toMatch(/^process_cpu_seconds_total\{app="token"\} /m);
  });

  it('each process exposes the metric families it uses, and no others', async () => {
    const families = (text: string) => new Set([...text.matchAll(/^# TYPE (authz_\w+) /gm)].map((m) => m[1]));
    const gateway = families(await scrape('gateway'));
    const token = families(await scrape('token'));
    const consent = families(await scrape('consent'));
    expect(gateway).toContain('authz_http_request_duration_seconds');
    expect(gateway).toContain('authz_nats_request_duration_seconds');
    for (const absent of [
      'authz_event_append_duration_seconds',
      'authz_db_pool_connections',
      'authz_tokens_issued_total',
      'authz_login_attempts_total',
      'authz_nats_requests_handled_total',
    ])
      expect([...gateway]).not.toContain(absent);
    expect(token).toContain('authz_event_append_duration_seconds');
    expect(token).toContain('authz_nats_requests_handled_total');
    for (const absent of [
      'authz_http_requests_total',
      'authz_login_attempts_total',
      'authz_tokens_revoked_total',
    ])
      expect([...token]).not.toContain(absent);
    expect(consent).toContain('authz_login_attempts_total');
    expect([...consent]).not.toContain('authz_tokens_issued_total');
    expect([...consent]).not.toContain('authz_http_request_duration_seconds');
  });

  it('a failed client authentication is logged at warn with the client id and a reason code, never the secret', async () => {
    const wrong = `wrong-${randomBytes(16).toString('hex')}`;
    const res = await postForm(
      url('/token'),
      { grant_type: 'client_credentials' },
      { authorization: basic(client.client_id, wrong) },
    );
    expect(res.status).toBe(401);
    const correlationId = res.headers.get('x-correlation-id')!;
    await system.waitForLogged(correlationId, ['token']);
    const failed = jsonLines(system.lines.get('token')!).filter(
      (l) => l.correlationId === correlationId && l.msg === 'client authentication failed',
    );
    expect(failed).toEqual([
      expect.objectContaining({ level: 'warn', client_id: client.client_id, reason: 'wrong_secret' }),
    ]);
    await system.logBarrier();
    expect([...system.lines.values()].flat().join('\n') + system.output.join('')).not.toContain(wrong);
  });

  it('every line a service writes on stdout is JSON, and the gateway starts without a Fastify warning', async () => {
    await system.logBarrier();
    for (const [app, lines] of system.lines) {
      const notJson = lines.filter((l) => {
        try {
          return typeof JSON.parse(l) !== 'object';
        } catch {
          return true;
        }
      });
      expect([app, notJson]).toEqual([app, []]);
    }
    expect(system.output.join('')).not.toContain('FSTWRN');
  });

  it('every service with a database reports its Postgres pool, and exactly one process reports the relay lag (the leader)', async () => {
    const services = ['client-registry', 'consent', 'token', 'introspection'];
    for (const app of services) {
      const text = await scrape(app);
      // At least the connection the readiness check used (sample() is 0 for a missing series).
      expect([app, sample(text, 'authz_db_pool_connections', { state: 'total' }) >= 1]).toEqual([app, true]);
      expect(text).toMatch(new RegExp(`^authz_db_pool_waiting_requests\\{app="${app}"\\} \\d+$`, 'm'));
    }
    expect(await scrape('gateway')).not.toMatch(/^authz_db_pool_connections\{/m);
    // The relays take the lead on their poll (every 250 ms): wait for one to hold it.
    let leaders: string[] = [];
    for (let i = 0; i < 40 && leaders.length !== 1; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      const texts = await Promise.all(services.map(async (app) => [app, await scrape(app)] as const));
      leaders = texts.filter(([, t]) => /^authz_relay_lag_events\{/m.test(t)).map(([app]) => app);
    }
    expect(leaders).toHaveLength(1);
    const leader = await scrape(leaders[0]!);
    expect(leader).toMatch(/^authz_relay_lag_events\{stream="[A-Z0-9_]+",app="[a-z-]+"\} \d+$/m);
  });

  it("the server's correlation id is answered, logged by every service on the way and stored in the events; the caller's is kept beside it", async () => {
    const callerId = `ops-${randomBytes(8).toString('hex')}`;
    const issued = await postForm(
      url('/token'),
      { grant_type: 'client_credentials' },
      {
        ...auth(),
        'x-correlation-id': callerId,
      },
    );
    expect(issued.status).toBe(200);
    const correlationId = issued.headers.get('x-correlation-id')!;
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const { access_token } = (await issued.json()) as { access_token: string };
    const revoked = await postForm(
      url('/revoke'),
      { token: access_token },
      {
        ...auth(),
        'x-request-id': callerId,
      },
    );
    expect(revoked.status).toBe(200);
    const revokedId = revoked.headers.get('x-correlation-id')!;
    expect(revokedId).toMatch(/^[0-9a-f-]{36}$/);
    expect(revokedId).not.toBe(correlationId);

    // The gateway's readiness asks every service, consent included, under the request's id.
    const ready = await fetch(url('/health/ready'), { headers: { 'x-correlation-id': callerId } });
    expect(ready.status).toBe(200);
    const readyId = ready.headers.get('x-correlation-id')!;

    // Logs are written asynchronously: wait for them, not for a while. Each process writes its
    // lines in order, so once the readiness check is logged, the token and revocation lines are too.
    await system.waitForLogged(readyId, ON_THE_WAY);
    const ids = new Set([correlationId, revokedId, readyId]);
    for (const app of ON_THE_WAY) {
      const mine = jsonLines(system.lines.get(app)!).filter((l) => ids.has(l.correlationId as string));
      expect(mine.length).toBeGreaterThan(0);
      for (const l of mine) expect(l).toMatchObject({ service: app, level: expect.any(String) });
    }
    // The gateway's request lines name the caller's id as what it is: the caller's.
    const gatewayLines = jsonLines(system.lines.get('gateway')!).filter((l) =>
      ids.has(l.correlationId as string),
    );
    const requestLines = gatewayLines.filter((l) => l.msg === 'http request');
    expect(requestLines.length).toBeGreaterThanOrEqual(2);
    for (const l of requestLines) expect(l.callerRequestId).toBe(callerId);
    const pool = new pg.Pool({ connectionString: system.database.url, max: 1 });
    try {
      const { rows } = await pool.query<{ type: string; correlation_id: string }>(
        `SELECT type, metadata->>'correlationId' AS correlation_id FROM events
          WHERE metadata->>'callerRequestId' = $1 ORDER BY global_position`,
        [callerId],
      );
      expect(rows).toEqual([
        { type: 'AccessTokenIssued', correlation_id: correlationId },
        { type: 'AccessTokenRevoked', correlation_id: revokedId },
      ]);
    } finally {
      await pool.end();
    }
  });

  it("a malformed caller id is dropped; the correlation id is the server's either way", async () => {
    const res = await postForm(
      url('/token'),
      { grant_type: 'client_credentials' },
      {
        ...auth(),
        'x-correlation-id': 'x'.repeat(200),
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    await system.waitForLogged(res.headers.get('x-correlation-id')!, ['gateway']);
    const line = jsonLines(system.lines.get('gateway')!).find(
      (l) => l.correlationId === res.headers.get('x-correlation-id') && l.msg === 'http request',
    );
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('callerRequestId');
  });

  it('no log line of any process holds a client secret, an access token or the admin token', async () => {
    const token = (
      (await (await postForm(url('/token'), { grant_type: 'client_credentials' }, auth())).json()) as {
        access_token: string;
      }
    ).access_token;
    // Each process writes its lines in order: once it has logged a later request (a readiness
    // check, which every service answers), everything it logged for the token request is there.
    await system.logBarrier();
    const everything = [...system.lines.values()].flat().join('\n') + system.output.join('');
    expect(everything.length).toBeGreaterThan(0);
    for (const secret of [client.client_secret, token, system.adminToken, system.env.KEY_ENCRYPTION_KEY!]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('SIGTERM to a token service during a burst of token requests loses no accepted request', async () => {
    await system.launch('token', 'token-2');
    await system.waitOpsReady('token-2');
    const first = system.children.get('token')!;
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      first.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const statuses: number[] = [];
    let sent = 0;
    const total = 240;
    const worker = async () => {
      while (sent < total) {
        sent++;
        const res = await postForm(url('/token'), { grant_type: 'client_credentials' }, auth());
        statuses.push(res.status);
        await res.arrayBuffer();
      }
    };
    const burst = Promise.all(Array.from({ length: 12 }, worker));
    while (statuses.length < 40) await new Promise((r) => setTimeout(r, 5));
    const handledBefore = sample(await scrape('token'), 'authz_nats_requests_handled_total', {
      subject: 'token.grant',
      outcome: 'ok',
    });
    expect(handledBefore).toBeGreaterThan(0);
    first.kill('SIGTERM');
    await burst;
    const exit = await exited;
    expect(statuses).toHaveLength(total);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
    const shutdownLog = jsonLines(system.lines.get('token')!).map((l) => l.msg);
    expect(shutdownLog).toContain('draining NATS subscriptions');
    // The replica that stayed answered the rest.
    expect(
      sample(await scrape('token-2'), 'authz_nats_requests_handled_total', {
        subject: 'token.grant',
        outcome: 'ok',
      }),
    ).toBeGreaterThan(0);
  }, 60000);
});
