import { connect } from '@nats-io/transport-node';
import {
  BUS_USERS,
  type BusUser,
  inboxPrefixOf,
  natsAuthorizationBlock,
  passwordVariableOf,
} from '#lib/contracts';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The bus of `npm start` when NATS_URL names none: a nats-server of its own on 127.0.0.1, with
 * JetStream under `.data/nats/` and one user per process, each allowed only the subjects it serves
 * and calls (libs/contracts bus-permissions.ts). An anonymous connection reaches nothing.
 */
export const DEV_BUS_DIR = resolve(process.env.DEV_NATS_DIR ?? '.data/nats');
/** Where the CLI finds the running dev bus (written by `npm start`). */
const BUS_FILE = resolve(DEV_BUS_DIR, 'bus.env');

export interface DevBus {
  url: string;
  /** The environment of a process connecting as `user`. */
  envFor(user: BusUser): Record<string, string>;
  stop(): Promise<void>;
}

function natsServerBinary(): string {
  for (const candidate of [
    process.env.NATS_SERVER_BIN,
    '/usr/sbin/nats-server',
    '/usr/bin/nats-server',
    '/usr/local/bin/nats-server',
  ]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .map((d) => resolve(d, 'nats-server'))
    .find((p) => existsSync(p));
  if (onPath) return onPath;
  throw new Error(
    'npm start runs its own authenticated NATS and needs nats-server: install it (Debian: `apt-get install nats-server`), ' +
      'or point NATS_URL (with NATS_USER/NATS_PASSWORD) at a running server',
  );
}

export async function startDevBus(options: {
  port: number;
  subjectPrefix: string;
  eventsStream: string;
  passwords: Record<string, string>;
}): Promise<DevBus> {
  mkdirSync(resolve(DEV_BUS_DIR, 'jetstream'), { recursive: true, mode: 0o700 });
  const configFile = resolve(DEV_BUS_DIR, 'nats-server.conf');
  const password = (user: BusUser) => JSON.stringify(options.passwords[passwordVariableOf(user)]!);
  writeFileSync(
    configFile,
    [
      '# Written by `npm start` at every start; keep private (it holds the bus passwords).',
      `listen: "127.0.0.1:${options.port}"`,
      `jetstream { store_dir: ${JSON.stringify(resolve(DEV_BUS_DIR, 'jetstream'))} }`,
      natsAuthorizationBlock(options.subjectPrefix, options.eventsStream, password),
    ].join('\n'),
    { mode: 0o600 },
  );
  const url = `nats://127.0.0.1:${options.port}`;
  const server: ChildProcess = spawn(natsServerBinary(), ['-c', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const envFor = (user: BusUser) => ({
    NATS_URL: url,
    NATS_USER: user,
    NATS_PASSWORD: options.passwords[passwordVariableOf(user)]!,
  });
  const deadline = Date.now() + 15000;
  for (;;) {
    if (server.exitCode !== null)
      throw new Error(`nats-server exited (${server.exitCode}): ${stderr.trim()}`);
    try {
      const nc = await connect({
        servers: url,
        user: 'cli',
        pass: envFor('cli').NATS_PASSWORD,
        inboxPrefix: inboxPrefixOf('cli'),
        maxReconnectAttempts: 0,
        timeout: 1000,
      });
      await nc.close();
      break;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`nats-server did not come up on ${url}: ${String(err)} ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  mkdirSync(dirname(BUS_FILE), { recursive: true });
  writeFileSync(BUS_FILE, `NATS_URL=${url}\n`, { mode: 0o600 });
  return {
    url,
    envFor,
    stop: () =>
      new Promise<void>((done) => {
        if (server.exitCode !== null) return done();
        server.once('exit', () => done());
        server.kill('SIGTERM');
        setTimeout(() => server.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** The CLI's connection to the dev bus of a running `npm start`, when NATS_URL names none. */
export function devBusEnvironmentForCli(secrets: Record<string, string>): Record<string, string> {
  if (process.env.NATS_URL || !existsSync(BUS_FILE)) return {};
  const password = secrets[passwordVariableOf('cli')];
  const url = /^NATS_URL=(.+)$/m.exec(readFileSync(BUS_FILE, 'utf8'))?.[1];
  if (!password || !url) return {};
  return { NATS_URL: url, NATS_USER: 'cli', NATS_PASSWORD: password };
}

export const DEV_BUS_USERS = BUS_USERS;
