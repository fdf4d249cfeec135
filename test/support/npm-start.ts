import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from './system.js';

/** The whole system as `npm start` runs it (its own nats-server with a user per process), in `cwd`. */
export interface NpmStart {
  process: ChildProcess;
  /** stdout and stderr so far. */
  output: string[];
  natsUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts `start` of the built CLI on free ports (HTTP, admin, its nats-server, the example apps),
 * with `env` on top of this process's environment minus any bus settings of the test runner, and
 * resolves once it says it is ready.
 */
export async function startNpmStart(
  cwd: string,
  databaseUrl: string,
  subjectPrefix: string,
  env: Record<string, string> = {},
): Promise<NpmStart> {
  const [http, admin, nats, rs, app] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const base: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const k of ['NATS_URL', 'NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN', 'EVENTS_STREAM', 'NODE_ENV'])
    delete base[k];
  const child = spawn(process.execPath, [resolve('dist/apps/cli/src/main.js'), 'start'], {
    cwd,
    env: {
      ...base,
      DATABASE_URL: databaseUrl,
      HTTP_PORT: String(http),
      ADMIN_HTTP_PORT: String(admin),
      ISSUER: `http://127.0.0.1:${http}`,
      DEV_NATS_PORT: String(nats),
      NATS_SUBJECT_PREFIX: subjectPrefix,
      OPS_PORT: '0',
      RESOURCE_SERVER_PORT: String(rs),
      RESOURCE_SERVER_AUDIENCE: `http://127.0.0.1:${rs}`,
      RESOURCE_SERVER_URL: `http://127.0.0.1:${rs}`,
      EXAMPLE_CLIENT_PORT: String(app),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
    child.kill('SIGKILL');
  };
  const deadline = Date.now() + 120000;
  while (!output.join('').includes('Authorization server ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not come up:\n${output.join('').slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { process: child, output, natsUrl: `nats://127.0.0.1:${nats}`, stop };
}
