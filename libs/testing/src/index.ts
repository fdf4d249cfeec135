import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createEventStoreDataSource, runEventStoreMigrations } from '#lib/event-store';

/**
 * Test helpers for *.int.spec.ts. Postgres and NATS are shared with other processes, so every test
 * file works in its own database and its own JetStream names, and removes them at the end.
 */

/** The server's admin database; each test database is created next to it. */
export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function natsServers(): string {
  return process.env.NATS_URL ?? '127.0.0.1:4222';
}

/** `<prefix>_<time>_<random>`: lower case, digits and `_`, at most 63 bytes (Postgres NAMEDATALEN). */
export function uniqueName(prefix = 'test'): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  return `${clean}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Terminates every connection to the database and drops it. */
  drop(): Promise<void>;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>, server = databaseUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `server`: any database URL on the Postgres server to use (default: DATABASE_URL's server). */
export async function createTestDatabase(prefix = 'test', server = databaseUrl()): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`), server);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      withAdmin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }, server),
  };
}

/** Applies the event store migrations to the database at `url`. */
export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = createEventStoreDataSource(url, { poolSize: 1 });
  try {
    return await runEventStoreMigrations(dataSource);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

export interface PrivateNatsServer {
  /** `127.0.0.1:<port>`, for connect({ servers }). */
  servers: string;
  /** Kills the server (SIGKILL by default, an outage) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and JetStream store. */
  restart(): Promise<void>;
  /** Kills it and deletes its store. */
  dispose(): Promise<void>;
}

/**
 * A nats-server with JetStream of the test's own (binary `nats-server` on PATH, or NATS_SERVER_BIN),
 * for tests that take NATS down, which the shared server must never be. `extraArgs` go to
 * nats-server as given (e.g. `--user u --pass p`).
 */
export async function startPrivateNatsServer(extraArgs: string[] = []): Promise<PrivateNatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'nats-test-'));
  let proc: ChildProcess | null = null;

  const start = async () => {
    const child = spawn(
      process.env.NATS_SERVER_BIN ?? 'nats-server',
      ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...extraArgs],
      { stdio: 'ignore' },
    );
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (err) => reject(new Error(`cannot start nats-server: ${err.message}`))),
    );
    proc = child;
    await Promise.race([waitForPort(port, 10_000), failed]);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const child = proc;
    proc = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };

  await start();
  return {
    servers: `127.0.0.1:${port}`,
    kill,
    restart: start,
    dispose: async () => {
      await kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export { mannWhitneyU, type MannWhitneyResult } from './mann-whitney.js';

export { selfSignedCertificate, type SelfSignedCertificate } from './self-signed-certificate.js';
export { recomputeChain } from './chain-tamper.js';
