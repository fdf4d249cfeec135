import {
  type Config,
  loadConfig,
  loadExampleClientConfig,
  loadResourceServerConfig,
  SERVICE_NODE_FLAGS,
} from '#lib/config';
import { namesLegacyKey } from '#lib/keysets';
import {
  CONFIGURATION_ERROR_EXIT_CODE,
  natsAuth,
  requireDependencies,
  serverUrl,
} from '#lib/service-runtime';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BusUser } from '#lib/contracts';
import { type DevBus, startDevBus } from '../dev-bus.js';
import { refuseDatabaseOfOtherSecrets } from '../dev-database.js';
import { loadDevSecrets, SECRETS_FILE, secretSource } from '../secrets-file.js';
import { seedDemoClient } from './demo-client.command.js';
import { seedExampleApps } from './example-apps.command.js';
import { migrate } from './migrate.command.js';
import { seedDemoUser } from './demo-user.command.js';

import { APPS, type AppName } from '../app-names.js';

export { APPS, type AppName, EXAMPLE_APPS } from '../app-names.js';

/**
 * The service secrets each process is given, as deploy/ gives each workload its own Secret: only
 * what it uses. The HTTP listeners hold none (they reach the services over NATS only); the cookie
 * and CSRF keys only the consent service, which alone makes and checks sessions and forms.
 */
export const SECRETS_OF: Readonly<Record<AppName, readonly string[]>> = {
  'client-registry': ['DATABASE_URL', 'SECRET_HASH_KEYS', 'ADMIN_TOKEN'],
  consent: [
    'DATABASE_URL',
    'SECRET_HASH_KEYS',
    'COOKIE_SEALING_KEYS',
    'CSRF_KEYS',
    'PERSONAL_DATA_KEY',
    'ADMIN_TOKEN',
  ],
  token: [
    'DATABASE_URL',
    'SECRET_HASH_KEYS',
    'KEY_ENCRYPTION_KEY',
    'KEY_ENCRYPTION_KEY_PREVIOUS',
    'PAIRWISE_SUBJECT_KEY',
    'ADMIN_TOKEN',
  ],
  introspection: [
    'DATABASE_URL',
    'SECRET_HASH_KEYS',
    'PAIRWISE_SUBJECT_KEY',
    'ADMIN_TOKEN',
    'AUDIT_CHECKPOINT_SIGNING_KEY',
  ],
  gateway: [],
  admin: [],
  'resource-server': [],
  'example-client': [],
};
const KEYSET_SETTINGS = ['SECRET_HASH_KEYS', 'COOKIE_SEALING_KEYS', 'CSRF_KEYS'];
const SERVICE_SECRETS = new Set([...Object.values(SECRETS_OF).flat(), 'SECRET_PEPPER']);

/**
 * `env` without the secrets `app` does not use. The legacy SECRET_PEPPER goes only to a process
 * one of whose keysets still uses it (unset, or naming p0).
 */
export function withoutSecretsFor(
  app: AppName,
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const kept = { ...env };
  // Each process gets its own NATS password only (busEnv), never the others'.
  for (const key of Object.keys(kept)) if (key.startsWith('NATS_PASSWORD_')) delete kept[key];
  const own = new Set(SECRETS_OF[app]);
  if (KEYSET_SETTINGS.some((setting) => own.has(setting) && namesLegacyKey(env[setting])))
    own.add('SECRET_PEPPER');
  for (const key of SERVICE_SECRETS) if (!own.has(key)) delete kept[key];
  return kept;
}

export function appEntry(app: AppName): string {
  return fileURLToPath(new URL(`../../../${app}/src/main.js`, import.meta.url));
}

async function waitUntilReady(config: Config, timeoutMs: number): Promise<void> {
  await waitForOk(`http://${localHost(config.httpHost)}:${config.httpPort}/health/ready`, timeoutMs);
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

/** The NATS user each process connects as (one user per process); the example client uses no bus. */
const BUS_USER_OF: Readonly<Record<AppName, BusUser | null>> = {
  gateway: 'gateway',
  admin: 'admin',
  'client-registry': 'client-registry',
  consent: 'consent',
  token: 'token',
  introspection: 'introspection',
  'resource-server': 'resource-server',
  'example-client': null,
};

/** A process's bus settings: none when NATS_URL names the bus, else its user on npm start's own. */
function busEnvFor(bus: DevBus | null, user: BusUser | null): Record<string, string> {
  return bus === null ? {} : user === null ? { NATS_URL: bus.url } : bus.envFor(user);
}

/** The processes npm start runs, each restarted when it dies, all stopped on SIGINT or SIGTERM. */
interface Supervisor {
  launch(app: AppName, extraEnv?: Record<string, string>): void;
}

/**
 * Runs each app with only its own secrets and bus user; restarts one that dies, and stops them
 * all (then the bus) when one exits with a configuration error or the supervisor is signalled.
 */
function supervise(env: Record<string, string | undefined>, bus: DevBus | null): Supervisor {
  const children = new Map<AppName, ChildProcess>();
  let stopping = false;
  const launch = (app: AppName, extraEnv: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, appEntry(app)], {
      env: { ...withoutSecretsFor(app, env), ...busEnvFor(bus, BUS_USER_OF[app]), ...extraEnv },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.set(app, child);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      if (code === CONFIGURATION_ERROR_EXIT_CODE) {
        // Started again with the same settings it would stop again: the start ends here.
        console.error(`npm start stopped: ${app} cannot run with this configuration (its reason is above)`);
        process.exitCode = 1;
        return stop();
      }
      console.error(`${app} exited (${signal ?? code}); restarting in 1 s`);
      setTimeout(() => !stopping && launch(app, extraEnv), 1000);
    });
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    const exited = [...children.values()].map(
      (child) =>
        new Promise<void>((done) => (child.exitCode !== null ? done() : child.once('exit', () => done()))),
    );
    for (const child of children.values()) child.kill('SIGTERM');
    // The bus goes last, once the services have drained their NATS connections.
    void Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 5000))])
      .then(() => bus?.stop())
      .then(() => process.exit());
    setTimeout(() => process.exit(), 10000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return { launch };
}

/** What the ready system offers, and the demo's credentials. */
function readyBanner(
  config: Config,
  bus: DevBus | null,
  demo: { clientId: string; clientSecret: string },
  demoUser: { username: string; password: string },
  example: { url: string },
  rs: { audience: string },
): string {
  const base = config.issuer;
  return [
    '',
    `Authorization server ready. Issuer: ${config.issuer}`,
    `  metadata:   ${base}/.well-known/oauth-authorization-server`,
    `  admin API:  http://${localHost(config.adminHttpHost)}:${config.adminHttpPort}/admin (its own listener; OpenAPI at /openapi.json, Swagger UI at /admin/docs)`,
    ...(bus ? [`  NATS:       ${bus.url} (its own nats-server, one user per process; .data/nats)`] : []),
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
  ].join('\n');
}

/** A listener's address to connect to: the loopback for one bound to every interface. */
function localHost(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host;
}

/**
 * `npm start`: the whole system on this machine. Refuses a database set up with other development
 * secrets, starts its own NATS (unless NATS_URL is set), applies migrations, starts the six
 * processes, restarts any that dies (and stops when one exits with a configuration error), seeds
 * the demo client and the example apps' clients, starts the example resource server and client,
 * and prints how to use them.
 */
export async function startCommand(): Promise<void> {
  const secrets = loadDevSecrets({ create: true });
  // The supervisor's own summary should stay readable: services log warnings and errors only,
  // unless LOG_LEVEL says otherwise.
  const env: Record<string, string | undefined> = { LOG_LEVEL: 'warn', ...process.env, ...secrets };
  Object.assign(process.env, secrets);
  const settings = loadConfig(env);
  await refuseDatabaseOfOtherSecrets(settings, secretSource('KEY_ENCRYPTION_KEY'));
  // An authenticated bus of its own unless NATS_URL names one (ARCHITECTURE.md: least privilege).
  const bus = process.env.NATS_URL
    ? null
    : await startDevBus({
        port: Number(process.env.DEV_NATS_PORT || 4223),
        subjectPrefix: settings.subjectPrefix,
        eventsStream: settings.eventsStream,
        passwords: secrets,
      });
  Object.assign(process.env, busEnvFor(bus, 'cli'));
  const config = loadConfig({ ...env, ...busEnvFor(bus, 'cli') });
  await requireDependencies({
    databaseUrl: serverUrl(config.databaseUrl),
    natsServers: config.natsServers,
    natsAuth: natsAuth(config),
  });
  await migrate(config.databaseUrl);

  const supervisor = supervise(env, bus);
  for (const app of APPS) supervisor.launch(app);

  await waitUntilReady(config, 60000);
  const demo = await seedDemoClient(config);
  const demoUser = await seedDemoUser(config);
  const rs = loadResourceServerConfig(env);
  const example = loadExampleClientConfig(env);
  const seeded = await seedExampleApps(config, rs, example);
  supervisor.launch('resource-server', { RESOURCE_SERVER_CLIENT_SECRET: seeded.resourceServerSecret });
  supervisor.launch('example-client', { EXAMPLE_CLIENT_SECRET: seeded.exampleClientSecret });
  await waitForOk(`http://${localHost(rs.host)}:${rs.port}/health`, 60000);
  await waitForOk(`http://${localHost(example.host)}:${example.port}/health`, 60000);
  console.log(readyBanner(config, bus, demo, demoUser, example, rs));
}
