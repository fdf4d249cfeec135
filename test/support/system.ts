import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '#lib/config';
import type { Keyset } from '#lib/keysets';
import { createTestDatabase, natsServers, type TestDatabase, uniqueName } from '#lib/testing';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The whole system, really started: the five built processes (dist/, `npm test` builds first),
 * on a fresh database, with their own NATS subject prefix and JetStream stream so that a test run
 * never meets another system on the same NATS.
 */
export const APPS = ['client-registry', 'consent', 'token', 'introspection', 'gateway', 'admin'] as const;
/** The example apps of the choreography, started on demand (SystemOptions). */
export const EXAMPLE_APPS = ['resource-server', 'example-client'] as const;
export type AppName = (typeof APPS)[number] | (typeof EXAMPLE_APPS)[number];

const ROOT = process.cwd();
const entry = (app: string) => resolve(ROOT, `dist/apps/${app}/src/main.js`);
const execFileAsync = promisify(execFile);

/** Ports this test process has handed out: a port is free when asked, not yet bound by its user. */
const handedOut = new Set<number>();

/**
 * A port nobody listens on, never one this process handed out before: the kernel may offer a
 * released port again before the process it was chosen for has bound it (a gateway's HTTP port
 * chosen first, then an operations port for each app).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((ok, fail) => {
      const srv = createServer();
      srv.once('error', fail);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => ok(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface SystemOptions {
  natsUrl?: string;
  /** A database URL on the Postgres server to use (default: DATABASE_URL's server). */
  postgresServerUrl?: string;
  rpcTimeoutMs?: number;
  env?: Record<string, string>;
  /** Also start apps/resource-server, with its introspection client registered. */
  resourceServer?: boolean;
  /** Also start apps/example-client, registered for the code flow (implies resourceServer). */
  exampleClient?: boolean;
}

export class RunningSystem {
  /** Processes by instance name: the app's name, or another name for an extra replica. */
  readonly children = new Map<string, ChildProcess>();
  readonly exits: { app: string; code: number | null; signal: string | null }[] = [];
  readonly output: string[] = [];
  /** Every line each instance wrote to stdout (structured JSON logs), by instance name. */
  readonly lines = new Map<string, string[]>();
  /** Operations port (/health/*, /metrics) of each instance. */
  readonly opsPorts = new Map<string, number>();

  constructor(
    readonly env: Record<string, string>,
    readonly database: TestDatabase,
    readonly baseUrl: string,
  ) {}

  get issuer(): string {
    return this.env.ISSUER!;
  }

  /** Where the admin API and the audit pages answer (the admin plane, its own listener). */
  get adminUrl(): string {
    return `http://127.0.0.1:${this.env.ADMIN_HTTP_PORT}`;
  }

  get adminToken(): string {
    return this.env.ADMIN_TOKEN!;
  }

  /** A request to the admin API (`/admin<path>`) with the bootstrap administrator's token. */
  admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.adminUrl}/admin${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  }

  /** SECRET_HASH_KEYS as the services read it now (codes and secrets a test stores itself). */
  get secretHashKeys(): Keyset {
    return loadConfig(this.env).secretHashKeys;
  }

  /** Starts one process of `app`; `name` tells a second replica apart. */
  async launch(app: AppName, name: string = app, env: Record<string, string> = {}): Promise<ChildProcess> {
    const opsPort = await freePort();
    this.opsPorts.set(name, opsPort);
    const child = spawn(process.execPath, [entry(app)], {
      env: { ...process.env, ...this.env, OPS_PORT: String(opsPort), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(`[${name}] ${chunk.toString()}`);
      if (this.output.length > 2000) this.output.splice(0, 1000);
    };
    const lines: string[] = [];
    this.lines.set(name, lines);
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
    });
    child.stderr!.on('data', keep);
    child.on('exit', (code, signal) => this.exits.push({ app: name, code, signal }));
    this.children.set(name, child);
    return child;
  }

  opsUrl(name: string, path: string): string {
    return `http://127.0.0.1:${this.opsPorts.get(name)}${path}`;
  }

  /** Waits until the instance's operations listener says ready. */
  async waitOpsReady(name: string, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(this.opsUrl(name, '/health/ready'))).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${name} not ready:\n${this.output.slice(-40).join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Waits until each of `apps` has written a JSON log line carrying `correlationId`. */
  async waitForLogged(
    correlationId: string,
    apps: readonly string[] = APPS,
    timeoutMs = 15000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const carries = (line: string) => {
      try {
        return (JSON.parse(line) as { correlationId?: unknown }).correlationId === correlationId;
      } catch {
        return false;
      }
    };
    const missing = () => apps.filter((app) => !(this.lines.get(app) ?? []).some(carries));
    while (missing().length > 0) {
      if (Date.now() > deadline) {
        throw new Error(`no log line of ${missing().join(', ')} carries ${correlationId}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Returns once each process has written every line it logged before the call: a readiness check
   * of the gateway and one of the admin plane (each asks every service), each waited for under the
   * correlation id its listener answered (the server makes them: a caller's id is never used) in
   * each process's output, which a process writes in order. Needs LOG_LEVEL log or debug.
   */
  async logBarrier(): Promise<void> {
    const listeners = [
      [this.baseUrl, 'gateway'],
      [this.adminUrl, 'admin'],
    ] as const;
    for (const [base, listener] of listeners) {
      const res = await fetch(`${base}/health/ready`);
      if (res.status !== 200) throw new Error(`${base}/health/ready answered ${res.status}`);
      const correlationId = res.headers.get('x-correlation-id') ?? '';
      const services = APPS.filter((app) => app !== 'gateway' && app !== 'admin');
      await this.waitForLogged(correlationId, [listener, ...services]);
    }
  }

  /** apps/resource-server's base URL (its audience), when started. */
  resourceServerUrl = '';
  /** apps/example-client's base URL, when started. */
  exampleClientUrl = '';

  /** Waits until `url` answers 200 (an example app's /health). */
  async waitHttp(url: string, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(url)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${url} not ready:\n${this.output.slice(-40).join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Registers and starts the resource server: its client_id is its audience, so that introspection
   * lets it ask about tokens issued for it (checklist decision 11).
   */
  async startResourceServer(): Promise<void> {
    const port = await freePort();
    const audience = `http://127.0.0.1:${port}`;
    const rs = await this.createClient([
      '--id',
      audience,
      '--name',
      'Example resource server',
      '--grant',
      'client_credentials',
      '--scope',
      'introspect',
    ]);
    await this.launch('resource-server', 'resource-server', {
      RESOURCE_SERVER_PORT: String(port),
      RESOURCE_SERVER_AUDIENCE: audience,
      RESOURCE_SERVER_CLIENT_SECRET: rs.client_secret,
    });
    this.resourceServerUrl = audience;
    await this.waitHttp(`${audience}/health`);
  }

  /** Registers (as npm start does) and starts the example client; needs the resource server. */
  async startExampleClient(): Promise<void> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const client = await this.createClient([
      '--id',
      'example-app',
      '--name',
      'Example App',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--grant',
      'client_credentials',
      '--scope',
      'openid email profile offline_access',
      '--audience',
      this.resourceServerUrl,
      '--redirect-uri',
      `${url}/callback`,
      '--post-logout-redirect-uri',
      `${url}/signed-out`,
    ]);
    await this.launch('example-client', 'example-client', {
      EXAMPLE_CLIENT_PORT: String(port),
      EXAMPLE_CLIENT_URL: url,
      EXAMPLE_CLIENT_ID: client.client_id,
      EXAMPLE_CLIENT_SECRET: client.client_secret,
      RESOURCE_SERVER_URL: this.resourceServerUrl,
    });
    this.exampleClientUrl = url;
    await this.waitHttp(`${url}/health`);
  }

  /** Until both listeners are ready; a process that exits fails it at once. */
  async waitReady(timeoutMs = 90000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${this.baseUrl}/health/ready`);
        const admin = await fetch(`${this.adminUrl}/health/ready`);
        if (res.status === 200 && admin.status === 200) return;
      } catch {
        // not listening yet
      }
      if (this.exits.length > 0 || Date.now() > deadline) {
        throw new Error(
          `system not ready: exits=${JSON.stringify(this.exits)}\n${this.output.slice(-60).join('')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs the operator CLI against this system. */
  async cli(args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(
      process.execPath,
      [resolve(ROOT, 'dist/apps/cli/src/main.js'), ...args],
      {
        env: { ...process.env, ...this.env },
        timeout: 20000,
      },
    );
    return stdout;
  }

  async createClient(args: string[]): Promise<{ client_id: string; client_secret: string }> {
    const out = await this.cli(['clients', 'create', ...args, '--json']);
    return JSON.parse(out.trim().split('\n').pop()!) as { client_id: string; client_secret: string };
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    try {
      const nc = await connect({ servers: this.env.NATS_URL!, maxReconnectAttempts: 0, timeout: 2000 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(this.env.EVENTS_STREAM!).catch(() => undefined);
      await nc.close();
    } catch {
      // NATS may be the thing a test stopped.
    }
    await this.database.drop().catch(() => undefined);
  }
}

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  if (!existsSync(entry('gateway'))) {
    throw new Error('dist/ is missing: the e2e suite runs the built system; run `npm run build` first');
  }
  const database = await createTestDatabase('e2e', options.postgresServerUrl);
  const port = await freePort();
  const adminPort = await freePort();
  const prefix = uniqueName('e2e').replace(/_/g, '-');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '5',
    NATS_URL: options.natsUrl ?? natsServers(),
    NATS_SUBJECT_PREFIX: prefix,
    EVENTS_STREAM: prefix.toUpperCase().replace(/-/g, '_'),
    ISSUER: `http://127.0.0.1:${port}`,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    ADMIN_HTTP_PORT: String(adminPort),
    RPC_TIMEOUT_MS: String(options.rpcTimeoutMs ?? 3000),
    ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    // One key per purpose (libs/keysets); the legacy SECRET_PEPPER is not set.
    SECRET_HASH_KEYS: `h1:${randomBytes(32).toString('base64url')}`,
    COOKIE_SEALING_KEYS: `c1:${randomBytes(32).toString('base64url')}`,
    CSRF_KEYS: `x1:${randomBytes(32).toString('base64url')}`,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    PERSONAL_DATA_KEY: randomBytes(32).toString('base64url'),
    ...options.env,
  };
  const system = new RunningSystem(env, database, `http://127.0.0.1:${port}`);
  try {
    await system.cli(['migrate']);
    for (const app of APPS) await system.launch(app);
    await system.waitReady();
    if (options.resourceServer || options.exampleClient) await system.startResourceServer();
    if (options.exampleClient) await system.startExampleClient();
  } catch (err) {
    await system.stop();
    throw err;
  }
  return system;
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}
