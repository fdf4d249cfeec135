// Starts the whole system for a benchmark the way production runs it: the five built processes,
// NODE_ENV=production, logs at warn, its own database, NATS subject prefix and JetStream stream.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '..');
export const APPS = ['client-registry', 'consent', 'token', 'introspection', 'gateway'];
export const REDIRECT_URI = 'http://127.0.0.1:9/cb';
/** The read models' checkpoints (a runner creates its rows on its first pass, after start-up). */
const READ_MODEL_CHECKPOINTS = [
  'projection:token_state',
  'projection:grant_state',
  'projection:clients',
  'consent:users',
  'consent:user-grants',
];

const handedOut = new Set();

/** A free port, never one handed out before (it may not be bound yet by the process it is for). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((done, fail) => {
      const server = createServer();
      server.unref();
      server.on('error', fail);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => done(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

const serverUrl = () => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = '/postgres';
  return url;
};

export async function withPg(databaseUrl, fn) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export class BenchSystem {
  constructor(env, databaseName) {
    this.env = env;
    this.databaseName = databaseName;
    this.children = new Map();
    /** The ops port (health, /metrics) of every process. */
    this.opsPorts = new Map();
    this.baseUrl = env.ISSUER;
    this.log = [];
  }

  static async start(extraEnv = {}) {
    const name = `bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await withPg(serverUrl().href, (c) => c.query(`CREATE DATABASE ${name}`));
    const dbUrl = serverUrl();
    dbUrl.pathname = `/${name}`;
    const port = await freePort();
    const prefix = name.replace(/_/g, '-');
    const env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: dbUrl.href,
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      NATS_SUBJECT_PREFIX: prefix,
      EVENTS_STREAM: prefix.toUpperCase().replace(/-/g, '_'),
      ISSUER: `http://127.0.0.1:${port}`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      ADMIN_TOKEN: randomBytes(32).toString('base64url'),
      SECRET_HASH_KEYS: `h1:${randomBytes(32).toString('base64url')}`,
      COOKIE_SEALING_KEYS: `c1:${randomBytes(32).toString('base64url')}`,
      CSRF_KEYS: `x1:${randomBytes(32).toString('base64url')}`,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      PERSONAL_DATA_KEY: randomBytes(32).toString('base64url'),
      // The machine's NATS, shared by the benchmark's processes, has no users; production mode
      // refuses such a bus unless told so (docs/operations.md, "The bus").
      NATS_ALLOW_UNAUTHENTICATED: 'true',
      ...extraEnv,
    };
    const system = new BenchSystem(env, name);
    await system.cli(['migrate']);
    return system;
  }

  async launchAll() {
    // The flags production starts services with (SERVICE_NODE_FLAGS), or BENCH_NODE_FLAGS instead
    // (space-separated; "none" for none) to compare.
    const { SERVICE_NODE_FLAGS } = await import('../dist/libs/config/src/index.js');
    const chosen = process.env.BENCH_NODE_FLAGS;
    const nodeFlags =
      chosen === undefined ? SERVICE_NODE_FLAGS : chosen === 'none' ? [] : chosen.split(' ').filter(Boolean);
    for (const app of APPS) {
      const opsPort = await freePort();
      // BENCH_PROFILE=1: a V8 CPU profile of every process, written on exit to bench/profiles/.
      const profile = process.env.BENCH_PROFILE
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${resolve(ROOT, 'bench/profiles')}`,
            `--cpu-prof-name=${app}.cpuprofile`,
          ]
        : [];
      const child = spawn(
        process.execPath,
        [...nodeFlags, ...profile, resolve(ROOT, `dist/apps/${app}/src/main.js`)],
        {
          env: { ...process.env, ...this.env, OPS_PORT: String(opsPort) },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const keep = (chunk) => {
        this.log.push(`[${app}] ${chunk}`);
        if (this.log.length > 400) this.log.splice(0, 200);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      this.children.set(app, child);
      this.opsPorts.set(app, opsPort);
    }
    const deadline = Date.now() + 60000;
    for (;;) {
      try {
        if ((await fetch(`${this.baseUrl}/health/ready`)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`system not ready:\n${this.log.slice(-40).join('')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The CLI, killed after `timeout` ms (0: never; a full-log `audit verify` on a slow day may need it). */
  async cli(args, { timeout = 600000 } = {}) {
    const { stdout } = await execFileAsync(
      process.execPath,
      [resolve(ROOT, 'dist/apps/cli/src/main.js'), ...args],
      {
        env: { ...process.env, ...this.env },
        timeout,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return stdout;
  }

  /** Authorization codes issued the way the consent service issues them, for redemption runs. */
  async seedCodes(clientId, count) {
    const { createEventStoreDataSource, PgEventStore } =
      await import('../dist/libs/event-store/src/index.js');
    const grant = await import('../dist/libs/domain-grant/src/index.js');
    const { loadConfig } = await import('../dist/libs/config/src/index.js');
    const secretHashKeys = loadConfig(this.env).secretHashKeys;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const ds = createEventStoreDataSource(this.env.DATABASE_URL);
    await ds.initialize();
    const store = new PgEventStore(ds);
    const codes = [];
    try {
      for (let start = 0; start < count; start += 500) {
        const requests = [];
        for (let i = start; i < Math.min(count, start + 500); i++) {
          const grantId = grant.newGrantId();
          const code = grant.mintGrantToken(grantId);
          const { events } = grant.decideGrant(
            {
              type: 'IssueAuthorizationCode',
              grantId,
              clientId,
              sub: `bench-user-${i % 1000}`,
              username: `bench${i % 1000}`,
              scope: ['read'],
              redirectUri: REDIRECT_URI,
              deliveredTo: REDIRECT_URI,
              codeChallenge: challenge,
              codeHash: grant.hashGrantToken(code, secretHashKeys),
              authTime: Math.floor(Date.now() / 1000),
              now: new Date(),
              ttlSeconds: 1800,
            },
            grant.initialGrantState(),
          );
          requests.push({ streamId: grant.grantStreamId(grantId), expectedVersion: 0, events });
          codes.push(code);
        }
        await store.appendMany(requests);
      }
    } finally {
      await ds.destroy();
    }
    await this.caughtUp();
    return { codes, verifier };
  }

  /**
   * Resolves once every checkpoint (projections and the JetStream relay) has reached the store's
   * head, with the seconds it took: events appended behind the system's back (seeded codes, a
   * restored history) are folded and relayed before a measurement, not during it.
   */
  async caughtUp() {
    const started = performance.now();
    const head = Number(
      (await this.query(`SELECT coalesce(max(global_position), 0) AS p FROM events`)).rows[0].p,
    );
    for (;;) {
      const { rows } = await this.query(`SELECT name, position FROM checkpoints`);
      const names = new Set(rows.map((r) => r.name));
      const present = [...READ_MODEL_CHECKPOINTS, `relay:${this.env.EVENTS_STREAM}`].every((n) =>
        names.has(n),
      );
      if (present && rows.every((r) => Number(r.position) >= head))
        return (performance.now() - started) / 1000;
      if (performance.now() - started > 1800000) {
        const all = await this.query(`SELECT name, position FROM checkpoints ORDER BY name`);
        throw new Error(`not caught up with position ${head}: ${JSON.stringify(all.rows)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async createClient(args) {
    const out = await this.cli(['clients', 'create', ...args, '--json']);
    return JSON.parse(out.trim().split('\n').pop());
  }

  query(sql, params) {
    return withPg(this.env.DATABASE_URL, (c) => c.query(sql, params));
  }

  /** Resident set size, in MB, of every process. */
  async rss() {
    const out = {};
    for (const [app, child] of this.children) out[app] = await rssOf(child.pid);
    return out;
  }

  async stop() {
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    try {
      const { connect } = await import('@nats-io/transport-node');
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const nc = await connect({ servers: this.env.NATS_URL, maxReconnectAttempts: 0 });
      await (await jetstreamManager(nc)).streams.delete(this.env.EVENTS_STREAM).catch(() => undefined);
      await nc.close();
    } catch {
      // best effort
    }
    await withPg(serverUrl().href, (c) =>
      c.query(`DROP DATABASE IF EXISTS ${this.databaseName} WITH (FORCE)`),
    ).catch(() => undefined);
  }
}

export async function rssOf(pid) {
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'rss=', '-p', String(pid)]);
    return Math.round(Number(stdout.trim()) / 1024);
  } catch {
    return NaN;
  }
}
