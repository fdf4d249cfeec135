import {
  type Config,
  loadConfig,
  loadExampleClientConfig,
  loadResourceServerConfig,
  SERVICE_NODE_FLAGS,
} from '#lib/config';
import { natsAuth, requireDependencies, serverUrl } from '#lib/service-runtime';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadDevSecrets, SECRETS_FILE } from '../secrets-file.js';
import { seedDemoClient } from './demo-client.command.js';
import { seedExampleApps } from './example-apps.command.js';
import { migrate } from './migrate.command.js';
import { seedDemoUser } from './users.command.js';

export const APPS = ['client-registry', 'consent', 'token', 'introspection', 'gateway'] as const;
/** The example apps of the choreography (issue 7): started by `npm start` once the clients are seeded. */
export const EXAMPLE_APPS = ['resource-server', 'example-client'] as const;
export type AppName = (typeof APPS)[number] | (typeof EXAMPLE_APPS)[number];

export function appEntry(app: AppName): string {
  return fileURLToPath(new URL(`../../../${app}/src/main.js`, import.meta.url));
}

async function waitUntilReady(config: Config, timeoutMs: number): Promise<void> {
  await waitForOk(
    `http://${config.httpHost === '0.0.0.0' ? '127.0.0.1' : config.httpHost}:${config.httpPort}/health/ready`,
    timeoutMs,
  );
}

async function waitForOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`the system did not become ready within ${timeoutMs} ms (${url})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * `npm start`: the whole system on this machine. Applies migrations, starts the five processes,
 * restarts any that dies, seeds the demo client and the example apps' clients, starts the example
 * resource server and client, and prints how to use them.
 */
export async function startCommand(): Promise<void> {
  const secrets = loadDevSecrets({ create: true });
  // The supervisor's own summary should stay readable: services log warnings and errors only,
  // unless LOG_LEVEL says otherwise.
  const env = { LOG_LEVEL: 'warn', ...process.env, ...secrets };
  Object.assign(process.env, secrets);
  const config = loadConfig(env);
  await requireDependencies({
    databaseUrl: serverUrl(config.databaseUrl),
    natsServers: config.natsServers,
    natsAuth: natsAuth(config),
  });
  await migrate(config.databaseUrl);

  const children = new Map<AppName, ChildProcess>();
  let stopping = false;
  const launch = (app: AppName, extraEnv: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, appEntry(app)], {
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.set(app, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${app} exited (${signal ?? code}); restarting in 1 s`);
      setTimeout(() => !stopping && launch(app, extraEnv), 1000);
    });
  };
  for (const app of APPS) launch(app);

  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const child of children.values()) child.kill('SIGTERM');
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  await waitUntilReady(config, 60000);
  const demo = await seedDemoClient(config);
  const demoUser = await seedDemoUser(config);
  const rs = loadResourceServerConfig(env);
  const example = loadExampleClientConfig(env);
  const seeded = await seedExampleApps(config, rs, example);
  launch('resource-server', { RESOURCE_SERVER_CLIENT_SECRET: seeded.resourceServerSecret });
  launch('example-client', { EXAMPLE_CLIENT_SECRET: seeded.exampleClientSecret });
  const local = (host: string) => (host === '0.0.0.0' ? '127.0.0.1' : host);
  await waitForOk(`http://${local(rs.host)}:${rs.port}/health`, 60000);
  await waitForOk(`http://${local(example.host)}:${example.port}/health`, 60000);
  const base = config.issuer;
  console.log(
    [
      '',
      `Authorization server ready. Issuer: ${config.issuer}`,
      `  metadata:   ${base}/.well-known/oauth-authorization-server`,
      `  demo client (client_credentials, scope "read write"):`,
      `    client_id:     ${demo.clientId}`,
      `    client_secret: ${demo.clientSecret}`,
      `  demo user (login page of ${base}/authorize):`,
      `    username: ${demoUser.username}`,
      `    password: ${demoUser.password}`,
      `  admin token:   in ${SECRETS_FILE} (ADMIN_TOKEN)`,
      '',
      `  try: curl -s -u ${demo.clientId}:${demo.clientSecret} -d grant_type=client_credentials ${base}/token`,
      '',
      `  Example App (the whole code flow in a browser): open ${example.url}`,
      `  resource server it calls: ${rs.audience} (GET /api/me/email needs scope "email")`,
      '',
    ].join('\n'),
  );
}
