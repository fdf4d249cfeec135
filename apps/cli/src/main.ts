import 'reflect-metadata';
import { ConfigError, loadConfig } from '#lib/config';
import { OAuthError } from '#lib/oauth-errors';
import { requireDependencies, serverUrl } from '#lib/service-runtime';
import { AUDIT_USAGE, auditVerify } from './commands/audit.command.js';
import { HASH_KEYS_USAGE, hashKeysCommand } from './commands/hash-keys.command.js';
import { clientsCommand, CLIENTS_USAGE } from './commands/clients.command.js';
import { seedDemoClient } from './commands/demo-client.command.js';
import { keysCommand, KEYS_USAGE } from './commands/keys.command.js';
import { seedDemoUser, usersCommand, USERS_USAGE } from './commands/users.command.js';
import { migrate } from './commands/migrate.command.js';
import { NATS_USAGE, natsCommand } from './commands/nats.command.js';
import { projectionsCommand, PROJECTIONS_USAGE } from './commands/projections.command.js';
import { APPS, type AppName, appEntry, EXAMPLE_APPS, startCommand } from './commands/start.command.js';
import { DEV_BUS_DIR, devBusEnvironmentForCli } from './dev-bus.js';
import { resetDevelopmentDatabase } from './dev-database.js';
import { loadDevSecrets } from './secrets-file.js';

const USAGE = `usage: npm run cli -- <command>
  start                 start the whole system (the six processes, and a NATS of its own unless NATS_URL is set)
  serve APP             run one app in the foreground (${[...APPS, ...EXAMPLE_APPS].join(', ')})
  migrate               create the database if needed and apply migrations
  dev reset-database    drop the development database of DATABASE_URL and its JetStream stream, so
                        that the next start sets them up anew (only on this machine, only a
                        database that npm start set up)
  demo-client           register the demo client (or re-issue its secret) and print it
  demo-user             create the demo user (or give it a new password) and print its credentials
  ${CLIENTS_USAGE.split('\n').join('\n  ')}
  ${KEYS_USAGE.split('\n').join('\n  ')}
  ${USERS_USAGE.split('\n').join('\n  ')}
  ${NATS_USAGE.split('\n').join('\n  ')}
  ${AUDIT_USAGE}
  ${HASH_KEYS_USAGE}
  ${PROJECTIONS_USAGE}`;

/**
 * Settings `npm start` generated in `.data/` (secrets, and the dev bus the CLI then connects to as
 * its own NATS user); values in the environment win.
 */
function useDevEnvironment(): void {
  const secrets = loadDevSecrets({ create: false });
  Object.assign(process.env, { ...secrets, ...devBusEnvironmentForCli(secrets), ...process.env });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start':
      return startCommand();
    case 'serve': {
      const app = args[0] as AppName;
      if (![...APPS, ...EXAMPLE_APPS].includes(app)) throw new Error(USAGE);
      await import(appEntry(app));
      return;
    }
    case 'demo-client': {
      const config = loadConfig();
      const demo = await seedDemoClient(config);
      console.log(`demo client (client_credentials, scope "read write")`);
      console.log(`  client_id:     ${demo.clientId}`);
      console.log(`  client_secret: ${demo.clientSecret}`);
      return;
    }
    case 'demo-user': {
      useDevEnvironment();
      const demo = await seedDemoUser(loadConfig());
      console.log('demo user (login page of the authorization endpoint)');
      console.log(`  username: ${demo.username}`);
      console.log(`  password: ${demo.password}`);
      return;
    }
    case 'migrate': {
      // Postgres only: the migration uses no bus, so it needs no NATS user (deploy/: its Secret
      // holds DATABASE_URL and nothing else).
      const config = loadConfig();
      await requireDependencies({ databaseUrl: serverUrl(config.databaseUrl) });
      return migrate(config.databaseUrl);
    }
    case 'dev': {
      if (args[0] !== 'reset-database') throw new Error(USAGE);
      // NATS_URL unset: the JetStream store of npm start's own NATS, this checkout's.
      const devBusDir = process.env.NATS_URL ? null : DEV_BUS_DIR;
      return resetDevelopmentDatabase(loadConfig(), devBusDir, (line) => console.log(line));
    }
    case 'clients': {
      useDevEnvironment();
      return clientsCommand(loadConfig(), args);
    }
    case 'keys': {
      useDevEnvironment();
      return keysCommand(loadConfig(), args);
    }
    case 'users': {
      useDevEnvironment();
      return usersCommand(loadConfig(), args);
    }
    case 'nats':
      return natsCommand(loadConfig(), args);
    case 'audit': {
      if (args[0] === 'hash-keys')
        return hashKeysCommand(loadConfig().databaseUrl, args.slice(1), (line) => console.log(line));
      if (args[0] !== 'verify') throw new Error(USAGE);
      const intact = await auditVerify(loadConfig().databaseUrl, (line) => console.log(line));
      if (!intact) process.exitCode = 1;
      return;
    }
    case 'projections': {
      const equal = await projectionsCommand(loadConfig().databaseUrl, args, (line) => console.log(line));
      if (!equal) process.exitCode = 1;
      return;
    }
    default:
      console.log(USAGE);
      if (command !== undefined && command !== 'help' && command !== '--help') process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof OAuthError) console.error(`error: ${err.error}: ${err.description}`);
  else if (err instanceof ConfigError) console.error(`configuration error: ${err.message}`);
  else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
