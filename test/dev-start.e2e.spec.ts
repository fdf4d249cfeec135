import { eventsOrThrow } from '#lib/decider';
import { createEventStoreDataSource, PgEventStore, type RecordedEvent } from '#lib/event-store';
import {
  decideKeyring,
  evolveKeyring,
  generateKeyMaterial,
  initialKeyringState,
  SIGNING_KEYRING_STREAM,
} from '#lib/signing-keys';
import { createTestDatabase, runMigrations, type TestDatabase, uniqueName } from '#lib/testing';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pairwiseSignIn } from './support/pairwise-sign-in.js';
import { freePort } from './support/system.js';

const execFileAsync = promisify(execFile);
const CLI = resolve(process.cwd(), 'dist/apps/cli/src/main.js');

/**
 * `npm start` from two checkouts against one database (README, "The two commands"): each checkout
 * generates its own development secrets in its own .data/secrets.env. The second start must stop
 * before it starts any process, with one line naming both ways out, instead of a token service
 * that restarts forever beside a gateway that looks healthy; `dev reset-database` is one of them.
 */
describe('npm start: a database set up with other development secrets (two checkouts)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let checkoutA: string;
  let checkoutB: string;
  const running = new Set<ChildProcess>();

  beforeAll(async () => {
    database = await createTestDatabase('devstart');
    const ports: number[] = [];
    for (let i = 0; i < 5; i++) ports.push(await freePort());
    const [http, admin, bus, rs, example] = ports;
    const prefix = uniqueName('devstart').replace(/_/g, '-');
    env = {};
    // What a checkout's own files provide (its secrets, its NATS: no NATS_URL) must not come from
    // the test's environment.
    const own =
      /^(ADMIN_TOKEN|SECRET_PEPPER|SECRET_HASH_KEYS|COOKIE_SEALING_KEYS|CSRF_KEYS|KEY_ENCRYPTION_KEY|PAIRWISE_SUBJECT_KEY|PERSONAL_DATA_KEY|SECRETS_FILE|NATS_.*|DEV_NATS_.*)$/;
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !own.test(k)) env[k] = v;
    Object.assign(env, {
      DATABASE_URL: database.url,
      DEV_NATS_PORT: String(bus),
      NATS_SUBJECT_PREFIX: prefix,
      EVENTS_STREAM: prefix.toUpperCase().replace(/-/g, '_'),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(http),
      ISSUER: `http://127.0.0.1:${http}`,
      ADMIN_HTTP_PORT: String(admin),
      OPS_PORT: '0',
      RESOURCE_SERVER_PORT: String(rs),
      RESOURCE_SERVER_AUDIENCE: `http://127.0.0.1:${rs}`,
      RESOURCE_SERVER_URL: `http://127.0.0.1:${rs}`,
      EXAMPLE_CLIENT_PORT: String(example),
      EXAMPLE_CLIENT_URL: `http://127.0.0.1:${example}`,
      LOG_LEVEL: 'warn',
    });
    checkoutA = mkdtempSync(join(tmpdir(), 'checkout-a-'));
    checkoutB = mkdtempSync(join(tmpdir(), 'checkout-b-'));
  });

  afterAll(async () => {
    await Promise.all([...running].map((child) => stopStart(child)));
    await database.drop();
    rmSync(checkoutA, { recursive: true, force: true });
    rmSync(checkoutB, { recursive: true, force: true });
  });

  interface Start {
    child: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    /** Resolves with the exit code once the start command has exited. */
    exited: Promise<number | null>;
  }

  /** `npm start`'s entry, run in `checkout` (its secrets in `<checkout>/.data/secrets.env`). */
  function start(checkout: string, extraEnv: Record<string, string> = {}): Start {
    const child = spawn(process.execPath, [CLI, 'start'], {
      cwd: checkout,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((done) =>
      child.on('exit', (code) => {
        running.delete(child);
        done(code);
      }),
    );
    return { child, stdout: () => out, stderr: () => err, exited };
  }

  /** Waits until the start prints its credentials, or fails with what it printed. */
  async function ready(s: Start): Promise<void> {
    const deadline = Date.now() + 150_000;
    while (!s.stdout().includes('Authorization server ready')) {
      if (s.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`npm start did not become ready:\n${s.stdout()}\n${s.stderr()}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Ends a start as Ctrl-C does; it stops its processes before it exits. */
  async function stopStart(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Resolves with the exit code, or null when the start was still running after `ms` (then ended). */
  async function exitWithin(s: Start, ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((done) => (timer = setTimeout(() => done('late'), ms)));
    const outcome = await Promise.race([s.exited, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return outcome;
    await stopStart(s.child);
    return null;
  }

  /** The pids of the processes `parent` started, with their command lines (Linux /proc). */
  function childrenOf(parent: number): { pid: number; cmdline: string }[] {
    const found: { pid: number; cmdline: string }[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== parent) continue;
        found.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8') });
      } catch {
        // the process ended while we looked
      }
    }
    return found;
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function waitUntil(condition: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`still not so after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const line = (name: string) =>
    new RegExp(
      `^error: the database ${name} on 127\\.0\\.0\\.1:\\d+ was set up with other development secrets: ` +
        `the KEY_ENCRYPTION_KEY of (.+) does not open its signing key [A-Za-z0-9_-]{43}\\. Either start ` +
        `with the secrets that set it up \\(that checkout's \\.data/secrets\\.env, copied over (.+) or ` +
        `named by SECRETS_FILE\\), or reset the development database, losing its data: ` +
        `npm run cli -- dev reset-database$`,
    );

  it('the second checkout stops before it starts any process, with one line naming both ways out', async () => {
    const first = start(checkoutA);
    await ready(first);
    await stopStart(first.child);

    const second = start(checkoutB);
    const code = await exitWithin(second, 60_000);
    expect(code).toBe(1);
    // Before anything: not its NATS, not a migration, no process that could print (a restart, a
    // warning, the credentials); only the one line.
    expect(second.stdout()).toBe('');
    const errors = second.stderr().split('\n').filter(Boolean);
    expect(errors).toHaveLength(1);
    const secretsB = join(checkoutB, '.data/secrets.env');
    expect(errors[0]).toMatch(line(database.name));
    expect(line(database.name).exec(errors[0]!)!.slice(1)).toEqual([secretsB, secretsB]);

    // The first way out: that checkout's secrets (here named by SECRETS_FILE).
    const withA = start(checkoutB, { SECRETS_FILE: join(checkoutA, '.data/secrets.env') });
    await ready(withA);
    await stopStart(withA.child);
  }, 300_000);

  it('after `dev reset-database` the second checkout starts, with its own secrets', async () => {
    const { stdout } = await execFileAsync(process.execPath, [CLI, 'dev', 'reset-database'], {
      cwd: checkoutB,
      env,
    });
    expect(stdout.split('\n').filter(Boolean)).toEqual([
      `dropped database ${database.url}`,
      `deleted the JetStream store of npm start's NATS (${join(checkoutB, '.data/nats/jetstream')})`,
      'the next `npm start` sets the database up anew with the secrets it uses',
    ]);
    const second = start(checkoutB);
    await ready(second);
    const metadata = await fetch(`${env.ISSUER}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    // A token from the demo client it printed: the token service signs with this checkout's keys.
    const id = /client_id: +(\S+)/.exec(second.stdout())![1]!;
    const secret = /client_secret: +(\S+)/.exec(second.stdout())![1]!;
    const token = await fetch(`${env.ISSUER}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=read',
    });
    expect(token.status).toBe(200);
    // OpenID Connect Core §8.1: the PAIRWISE_SUBJECT_KEY `npm start` generated serves a pairwise sign-in.
    const { sub, idTokenSub } = await pairwiseSignIn(env, join(checkoutB, '.data/secrets.env'));
    expect(idTokenSub).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(idTokenSub).not.toBe(sub);
    await stopStart(second.child);
  }, 300_000);

  it('a process that exits with a configuration error stops the start with its reason, never restarted forever', async () => {
    const system = start(checkoutB);
    await ready(system);
    // While it runs, another checkout's token service (another KEY_ENCRYPTION_KEY) activates a key
    // of its own in the shared keyring; then this checkout's token process dies.
    const ds = createEventStoreDataSource(database.url, { poolSize: 1 });
    await ds.initialize();
    let kid: string;
    try {
      const store = new PgEventStore(ds);
      const history = await store.readStream(SIGNING_KEYRING_STREAM);
      const state = history.reduce(evolveKeyring, initialKeyringState());
      const now = new Date();
      const material = await generateKeyMaterial('ES256', randomBytes(32));
      kid = material.kid;
      const generated = eventsOrThrow(
        decideKeyring({ type: 'GenerateSigningKey', ...material, now, activatesAt: now }, state),
      );
      const published = generated
        .map((e, i): RecordedEvent => ({
          eventId: randomUUID(),
          globalPosition: 0,
          streamId: SIGNING_KEYRING_STREAM,
          streamVersion: history.length + i + 1,
          type: e.type,
          schemaVersion: 1,
          data: e.data,
          metadata: {},
          recordedAt: now,
        }))
        .reduce(evolveKeyring, state);
      const activated = eventsOrThrow(
        decideKeyring(
          {
            type: 'ActivateSigningKey',
            kid,
            now,
            longestTokenLifetimeSeconds: 600,
            skipPrePublication: true,
          },
          published,
        ),
      );
      await store.appendToStream(SIGNING_KEYRING_STREAM, history.length, [...generated, ...activated]);
    } finally {
      await ds.destroy();
    }
    const processes = childrenOf(system.child.pid!);
    const token = processes.filter((c) => c.cmdline.includes('apps/token/src/main.js'));
    expect(token).toHaveLength(1);
    process.kill(token[0]!.pid, 'SIGKILL');

    const code = await exitWithin(system, 60_000);
    expect(code).toBe(1);
    const stderr = system.stderr();
    expect(stderr).toContain(
      `token: configuration error: KEY_ENCRYPTION_KEY cannot open the active signing key ${kid}`,
    );
    expect(stderr).toContain(
      'npm start stopped: token cannot run with this configuration (its reason is above)',
    );
    // Restarted once after the kill (a crash may pass), never after the configuration error.
    expect(stderr.match(/token exited \([^)]*\); restarting/g)).toEqual([
      'token exited (SIGKILL); restarting',
    ]);
    // And the start stopped the other processes: none is left running.
    await waitUntil(() => processes.every((p) => !alive(p.pid)), 30_000);
  }, 300_000);
  it('dev reset-database refuses, changing nothing, what is not a development database of this machine', async () => {
    const reset = (extra: Record<string, string>) =>
      execFileAsync(process.execPath, [CLI, 'dev', 'reset-database'], { env: { ...env, ...extra } }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
      );
    expect(await reset({ DATABASE_URL: 'postgres://postgres@10.255.255.1:5432/authz' })).toEqual({
      code: 1,
      stderr:
        'error: nothing reset: DATABASE_URL names 10.255.255.1, not this machine; only a development ' +
        'database on this machine is reset\n',
    });
    expect(await reset({ NATS_URL: 'nats://nats.example:4222' })).toEqual({
      code: 1,
      stderr:
        'error: nothing reset: NATS_URL names nats.example, not this machine; only a development ' +
        'database on this machine is reset\n',
    });

    // A database of this machine with a client that `npm start` did not register.
    const other = await createTestDatabase('devreset');
    try {
      await runMigrations(other.url);
      const ds = createEventStoreDataSource(other.url, { poolSize: 1 });
      await ds.initialize();
      try {
        await new PgEventStore(ds).appendToStream('client-billing', 0, [
          { type: 'ClientRegistered', data: { clientId: 'billing' } },
        ]);
      } finally {
        await ds.destroy();
      }
      expect(await reset({ DATABASE_URL: other.url })).toEqual({
        code: 1,
        stderr:
          `error: nothing reset: the database ${other.name} on ${new URL(other.url).host} holds clients ` +
          'but not the demo client that `npm start` registers, so it is not a development database of ' +
          '`npm start`; drop it yourself if it is one\n',
      });
      const client = new pg.Client({ connectionString: other.url });
      await client.connect();
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM events');
      await client.end();
      expect(rows[0]!.n).toBe('1');
    } finally {
      await other.drop();
    }
  }, 60_000);
});
