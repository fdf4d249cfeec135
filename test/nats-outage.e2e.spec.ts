import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, freePort, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Issue 2, point 3 / checklist ES-04: with NATS down the gateway answers 503
 * temporarily_unavailable within the RPC timeout, never hangs or leaks a stack; when NATS is back
 * the next requests succeed without restarting any process. This suite runs its own nats-server
 * (the machine's default one is shared), on a free port, with JetStream in a temporary folder.
 */
const NATS_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

function startNats(port: number, storeDir: string): ChildProcess {
  return spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: 'ignore',
  });
}

async function waitPort(port: number, up: boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), done(true)));
      s.once('error', () => done(false));
    });
    if (open === up) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not become ${up ? 'open' : 'closed'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

describe('NATS outage and recovery (checklist ES-04)', () => {
  const RPC_TIMEOUT_MS = 2000;
  let natsPort: number;
  let storeDir: string;
  let nats: ChildProcess;
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };

  beforeAll(async () => {
    natsPort = await freePort();
    storeDir = mkdtempSync(join(tmpdir(), 'nats-outage-'));
    nats = startNats(natsPort, storeDir);
    await waitPort(natsPort, true);
    system = await startSystem({ natsUrl: `nats://127.0.0.1:${natsPort}`, rpcTimeoutMs: RPC_TIMEOUT_MS });
    client = await system.createClient(['--name', 'svc', '--grant', 'client_credentials', '--scope', 'read']);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
    if (nats) await stopProcess(nats);
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  }, 30000);

  const tokenRequest = () =>
    postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );

  it('answers 503 temporarily_unavailable within the timeout while NATS is down, then recovers by itself', async () => {
    expect((await tokenRequest()).status).toBe(200);
    const pids = [...system.children.values()].map((c) => c.pid);

    await stopProcess(nats);
    await waitPort(natsPort, false);

    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await tokenRequest();
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.error).toBe('temporarily_unavailable');
      expect(JSON.stringify(body)).not.toMatch(/at .*\.js|nats|NATS|stack/);
      expect(elapsed).toBeLessThan(RPC_TIMEOUT_MS + 1500);
    }
    const ready = await fetch(`${system.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);

    nats = startNats(natsPort, storeDir);
    await waitPort(natsPort, true);

    const deadline = Date.now() + 30000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await tokenRequest()).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);

    const introspect = async () => {
      const { access_token } = (await (await tokenRequest()).json()) as { access_token: string };
      return postForm(
        `${system.baseUrl}/introspect`,
        { token: access_token },
        {
          authorization: basic(client.client_id, client.client_secret),
        },
      );
    };
    const res = await introspect();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { active: boolean }).active).toBe(true);

    expect(system.exits).toEqual([]);
    expect([...system.children.values()].map((c) => c.pid)).toEqual(pids);
  }, 90000);
});
