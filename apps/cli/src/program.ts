import { Argument, Command } from 'commander';
import { APPS, type AppName, EXAMPLE_APPS } from './app-names.js';
import { registerClients } from './commands/clients.command.js';
import { registerKeys } from './commands/keys.command.js';
import { registerUsers } from './commands/users.command.js';
import { type CliContext, withJson } from './cli-context.js';

export const EXIT_CODES = `
Exit codes: 0 done; 1 failed (NATS, Postgres or the admin API unreachable or refusing, a bad
setting, \`audit verify\` found a break, \`projections rebuild\` found a difference); 2 usage error
(unknown command or option, missing or malformed argument).

Without --admin-url the CLI reaches NATS (NATS_URL, NATS_USER/NATS_PASSWORD) and Postgres
(DATABASE_URL) itself. With --admin-url (or ADMIN_URL) the clients and users commands go to the
admin API instead; the others need direct access (docs/operations.md, "Operator CLI").`;

/** The operator CLI's command tree (docs/operations.md, "Operator CLI"). */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('npm run cli --')
    .description('Operator CLI of the authorization server')
    .option(
      '--admin-url <url>',
      'use the admin API (apps/admin listener, ADMIN_HTTP_PORT) at this URL instead of NATS; env ADMIN_URL',
    )
    .option(
      '--admin-token <token>',
      'bearer token for --admin-url (better: env ADMIN_ACCESS_TOKEN or ADMIN_TOKEN, which no process list shows)',
    )
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES);

  registerProcesses(program);
  registerMigrate(program, ctx);
  registerDev(program, ctx);
  registerDemo(program, ctx);
  registerClients(program, ctx);
  registerKeys(program, ctx);
  registerUsers(program, ctx);
  registerNats(program, ctx);
  registerAudit(program, ctx);
  registerProjections(program, ctx);
  registerRetention(program, ctx);
  return program;
}

/** `start` (the whole system) and `serve <app>` (one app in the foreground). */
function registerProcesses(program: Command): void {
  program
    .command('start')
    .description('start the whole system (the six processes, and a NATS of its own unless NATS_URL is set)')
    .action(async () => {
      const { startCommand } = await import('./commands/start.command.js');
      await startCommand();
    });

  program
    .command('serve')
    .description('run one app in the foreground')
    .addArgument(new Argument('<app>').choices([...APPS, ...EXAMPLE_APPS]))
    .action(async (app: AppName) => {
      const { appEntry } = await import('./commands/start.command.js');
      await import(appEntry(app));
    });
}

function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('create the database of DATABASE_URL if needed and apply migrations (Postgres only)')
    .action(async (_o: unknown, cmd: Command) => {
      // Postgres only: the migration uses no bus, so it needs no NATS user (deploy/: its Secret
      // holds DATABASE_URL and nothing else).
      const config = await ctx.direct(cmd, 'Postgres');
      const { requireDependencies, serverUrl } = await import('#lib/service-runtime');
      const { migrate } = await import('./commands/migrate.command.js');
      await requireDependencies({ databaseUrl: serverUrl(config.databaseUrl) });
      await migrate(config.databaseUrl);
    });
}

function registerDev(program: Command, ctx: CliContext): void {
  program
    .command('dev')
    .description('development helpers (this machine only)')
    .command('reset-database')
    .description(
      'drop the development database of DATABASE_URL and its JetStream stream, so that the next start ' +
        'sets them up anew (only a database that npm start set up)',
    )
    .action(async () => {
      const { DEV_BUS_DIR } = await import('./dev-bus.js');
      const { resetDevelopmentDatabase } = await import('./dev-database.js');
      // NATS_URL unset: the JetStream store of npm start's own NATS, this checkout's.
      const devBusDir = process.env.NATS_URL ? null : DEV_BUS_DIR;
      await resetDevelopmentDatabase(await ctx.config(), devBusDir, (line) => console.log(line));
    });
}

/** `demo-client` and `demo-user`: the demo's credentials, printed. */
function registerDemo(program: Command, ctx: CliContext): void {
  withJson(
    program
      .command('demo-client')
      .description('register the demo client (or re-issue its secret) and print it'),
  ).action(async (_o: unknown, cmd: Command) => {
    const { seedDemoClient } = await import('./commands/demo-client.command.js');
    const demo = await seedDemoClient(await ctx.direct(cmd, 'NATS'));
    ctx
      .out(cmd)
      .data({ client_id: demo.clientId, client_secret: demo.clientSecret }, () => [
        `demo client (client_credentials, scope "read write")`,
        `  client_id:     ${demo.clientId}`,
        `  client_secret: ${demo.clientSecret}`,
      ]);
  });

  withJson(
    program
      .command('demo-user')
      .description('create the demo user (or give it a new password) and print its credentials'),
  ).action(async (_o: unknown, cmd: Command) => {
    await ctx.useDevEnvironment();
    const { seedDemoUser } = await import('./commands/demo-user.command.js');
    const demo = await seedDemoUser(await ctx.direct(cmd, 'NATS'));
    ctx
      .out(cmd)
      .data({ username: demo.username, password: demo.password }, () => [
        'demo user (login page of the authorization endpoint)',
        `  username: ${demo.username}`,
        `  password: ${demo.password}`,
      ]);
  });
}

function registerNats(program: Command, ctx: CliContext): void {
  program
    .command('nats')
    .description('bus configuration')
    .command('config')
    .description(
      'print the nats-server `authorization` block: one user per process, each allowed only its subjects; ' +
        'passwords as $NATS_PASSWORD_<USER> variables (nats-server configuration, not JSON)',
    )
    .action(async () => {
      const { natsConfig } = await import('./commands/nats.command.js');
      natsConfig(await ctx.config());
    });
}

/** `audit verify` (the events' hash chain) and `audit hash-keys` (SECRET_HASH_KEYS still in use). */
function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the event log (Postgres, DATABASE_URL)');
  withJson(
    audit
      .command('verify')
      .description("recompute the events' hash chain; names the first event altered, inserted or removed")
      .option(
        '--archives <dir>',
        'also check every retention archive in <dir> whole (checksum, every event hash); without it the ' +
          'manifests of RETENTION_ARCHIVE_DIR, when set, account for archived events',
      ),
  ).action(async (o: { archives?: string }, cmd: Command) => {
    const config = await ctx.direct(cmd, 'Postgres');
    await ctx.requirePostgres(config.databaseUrl);
    if (o.archives !== undefined || config.retentionArchiveDir) {
      const retention = await import('./commands/retention.command.js');
      const report = await retention.auditReportWithArchives(config, o.archives, o.archives !== undefined);
      ctx
        .out(cmd)
        .data(retention.archivedChainDocument(report), () => retention.describeArchivedChain(report));
      if (report.chain.break || report.archiveProblem) process.exitCode = 1;
      return;
    }
    const { auditReport, chainDocument, describeChain } = await import('./commands/audit.command.js');
    const report = await auditReport(config.databaseUrl);
    ctx.out(cmd).data(chainDocument(report), () => describeChain(report));
    if (report.break) process.exitCode = 1;
  });
  withJson(
    audit
      .command('hash-keys')
      .description('which SECRET_HASH_KEYS key ids stored secrets and codes still name'),
  ).action(async (_o: unknown, cmd: Command) => {
    const config = await ctx.direct(cmd, 'Postgres');
    await ctx.requirePostgres(config.databaseUrl);
    const { formatHashKeyUsage, hashKeysReport, hashKeyUsageDocument } =
      await import('./commands/hash-keys.command.js');
    const usage = await hashKeysReport(config.databaseUrl);
    ctx.out(cmd).data(usage.map(hashKeyUsageDocument), () => formatHashKeyUsage(usage));
  });
}

function registerProjections(program: Command, ctx: CliContext): void {
  const projections = program
    .command('projections')
    .description("the services' projections (Postgres, DATABASE_URL)");
  withJson(
    projections
      .command('rebuild')
      .description('rebuild NAME (default: all) from position 0 beside the live one and compare them')
      .argument('[name]', 'one projection (default: all; an unknown name is refused with the known ones)')
      .option('--replace', 'swap the rebuilt rows in'),
  ).action(async (name: string | undefined, o: { replace?: boolean }, cmd: Command) => {
    const config = await ctx.direct(cmd, 'Postgres');
    await ctx.requirePostgres(config.databaseUrl);
    const { describeReport, rebuildProjections, reportDocument } =
      await import('./commands/projections.command.js');
    const reports = await rebuildProjections(config.databaseUrl, name, o.replace === true);
    const equal = reports.every((r) => r.equal);
    ctx
      .out(cmd)
      .data({ equal, projections: reports.map(reportDocument) }, () => reports.flatMap(describeReport));
    if (!equal) process.exitCode = 1;
  });
}

/** `retention run` and `retention restore` (docs/retention.md). */
function registerRetention(program: Command, ctx: CliContext): void {
  const retention = program
    .command('retention')
    .description('archive closed streams out of the event log, and restore them (Postgres, DATABASE_URL)');
  withJson(
    retention
      .command('run')
      .description(
        'archive the streams closed longer than RETENTION_*_DAYS to RETENTION_ARCHIVE_DIR (signed manifest), ' +
          'then delete them from the log in small batches; finishes an interrupted run first',
      )
      .option('--dry-run', 'list the streams that would be archived; write and delete nothing'),
  ).action(async (o: { dryRun?: boolean }, cmd: Command) => {
    const config = await ctx.direct(cmd, 'Postgres');
    await ctx.requirePostgres(config.databaseUrl);
    const { describeRetention, retentionDocument, retentionRun } =
      await import('./commands/retention.command.js');
    const report = await retentionRun(config, o.dryRun === true);
    ctx.out(cmd).data(retentionDocument(report), () => describeRetention(report));
  });
  withJson(
    retention
      .command('restore')
      .description(
        'put an archived stream back into the log at its original positions, after checking its archive',
      )
      .argument('<stream-id>', 'the stream, e.g. access-token-<jti>')
      .option('--archives <dir>', 'the archive directory (default RETENTION_ARCHIVE_DIR)'),
  ).action(async (streamId: string, o: { archives?: string }, cmd: Command) => {
    const config = await ctx.direct(cmd, 'Postgres');
    await ctx.requirePostgres(config.databaseUrl);
    const { restoreDocument, retentionRestore } = await import('./commands/retention.command.js');
    const report = await retentionRestore(config, streamId, o.archives);
    ctx
      .out(cmd)
      .data(restoreDocument(report), () => [
        `restored ${report.streamId}: ${report.events} event(s) from ${report.archives.join(', ')}`,
      ]);
  });
}
