import { createEventStoreDataSource, PgEventStore } from '#lib/event-store';
import { ScriptedGrant } from '../libs/domain-token/src/testing/grant-life.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Issue 2, point 3: when Postgres goes away, requests fail fast with 503
 * temporarily_unavailable (never a 500 or a hang), and when it comes back everything recovers
 * without restarting a process. The suite runs on a Postgres server of its own (the machine's is
 * shared), stopped with an immediate shutdown, as in a crash.
 */
describe('Postgres outage and recovery', () => {
  const RPC_TIMEOUT_MS = 3000;
  let pgsql: PrivatePostgres;
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };
  let codeClient: { client_id: string; client_secret: string };
  let refreshToken: string;

  beforeAll(async () => {
    pgsql = await PrivatePostgres.create();
    system = await startSystem({ postgresServerUrl: pgsql.url, rpcTimeoutMs: RPC_TIMEOUT_MS });
    client = await system.createClient(['--name', 'svc', '--grant', 'client_credentials', '--scope', 'read']);
    codeClient = await system.createClient([
      '--name',
      'web',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--scope',
      'read',
      '--redirect-uri',
      'https://web.test/cb',
    ]);
    // A refresh token, written as the consent and token services write it.
    const ds = createEventStoreDataSource(system.database.url, { poolSize: 1 });
    await ds.initialize();
    try {
      const grant = new ScriptedGrant(new PgEventStore(ds), system.secretHashKeys, {
        clientId: codeClient.client_id,
        sub: 'sub-alice',
        username: 'alice',
        scope: ['read'],
        aud: [codeClient.client_id],
        redirectUri: 'https://web.test/cb',
      });
      await grant.issueCode();
      await grant.redeem();
      refreshToken = grant.refreshTokens[0]!;
    } finally {
      await ds.destroy();
    }
  }, 120000);

  afterAll(async () => {
    try {
      pgsql?.start();
    } catch {
      // already running
    }
    await system?.stop();
    pgsql?.destroy();
  });

  const tokenRequest = () =>
    postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );

  it('ES-04, REV-13: answers 503 temporarily_unavailable while Postgres is down, then recovers by itself', async () => {
    expect((await tokenRequest()).status).toBe(200);
    const pids = [...system.children.values()].map((c) => c.pid);
    const auth = { authorization: basic(client.client_id, client.client_secret) };
    const { access_token: survivor } = (await (await tokenRequest()).json()) as { access_token: string };

    pgsql.stop();

    // The readiness probe takes the service out of rotation: 503 naming Postgres (docs/operations.md).
    const notReady = await fetch(system.opsUrl('token', '/health/ready'));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      status: 'unavailable',
      checks: { postgres: 'down', nats: 'up' },
    });

    // Checklist REV-13: a revocation that could not be recorded (of an access token, of a refresh
    // token) is 503 with Retry-After, never 200.
    const revokeDuringOutage = await postForm(`${system.baseUrl}/revoke`, { token: survivor }, auth);
    expect(revokeDuringOutage.status).toBe(503);
    expect(revokeDuringOutage.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await revokeDuringOutage.json()) as { error: string }).error).toBe('temporarily_unavailable');
    const codeAuth = { authorization: basic(codeClient.client_id, codeClient.client_secret) };
    const revokeRefreshDuringOutage = await postForm(
      `${system.baseUrl}/revoke`,
      { token: refreshToken },
      codeAuth,
    );
    expect(revokeRefreshDuringOutage.status).toBe(503);
    expect(revokeRefreshDuringOutage.headers.get('retry-after')).toMatch(/^\d+$/);
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await tokenRequest();
      expect(Date.now() - started).toBeLessThan(RPC_TIMEOUT_MS + 1500);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.error).toBe('temporarily_unavailable');
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|postgres|at .*\.js/i);
    }

    pgsql.start();
    const deadline = Date.now() + 30000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await tokenRequest()).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect((await fetch(system.opsUrl('token', '/health/ready'))).status).toBe(200);

    // Nothing was persisted by the refused revocation: the token is still active.
    const stillActive = await postForm(`${system.baseUrl}/introspect`, { token: survivor }, auth);
    expect(((await stillActive.json()) as { active: boolean }).active).toBe(true);
    const refreshStillActive = await postForm(
      `${system.baseUrl}/introspect`,
      { token: refreshToken },
      codeAuth,
    );
    expect(((await refreshStillActive.json()) as { active: boolean }).active).toBe(true);

    const { access_token } = (await (await tokenRequest()).json()) as { access_token: string };
    const active = await postForm(`${system.baseUrl}/introspect`, { token: access_token }, auth);
    expect(((await active.json()) as { active: boolean }).active).toBe(true);
    expect((await postForm(`${system.baseUrl}/revoke`, { token: access_token }, auth)).status).toBe(200);
    const after = await postForm(`${system.baseUrl}/introspect`, { token: access_token }, auth);
    expect(await after.text()).toBe('{"active":false}');

    expect(system.exits).toEqual([]);
    expect([...system.children.values()].map((c) => c.pid)).toEqual(pids);
  }, 120000);
});
