import { Argument, Command } from 'commander';
import { APPS, type AppName, EXAMPLE_APPS } from './app-names.js';
import { registerClients } from './commands/clients.command.js';
import { registerKeys } from './commands/keys.command.js';
import { registerUsers } from './commands/users.command.js';
import { type CliContext, withJson } from './cli-context.js';
import { CliError } from './output.js';

export const EXIT_CODES = `
Exit codes: 0 done; 1 failed (NATS, Postgres or the admin API unreachable or refusing, a bad
setting, \`audit verify\` found a break or, with --checkpoints, a checkpoint refused, missing or no
longer matched, or an archive altered, \`audit checkpoint\` found the chain no longer continuing from the
last checkpoint, \`projections rebuild\` found a difference, \`retention\` found an archive that does not
check out); 2 usage error
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

/**
 * `audit verify` (the events' hash chain, and its signed checkpoints), `audit checkpoint` and
 * `audit checkpoint-keygen` (docs/events.md "Checkpoints"), `audit hash-keys` (SECRET_HASH_KEYS still in use).
 */
function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the event log (Postgres, DATABASE_URL)');
  withJson(
    audit
      .command('verify')
      .description(
        "recompute the events' hash chain; names the first event altered, inserted or removed. With " +
          '--checkpoints, also holds it against signed checkpoints: names the first event rewritten even ' +
          'when the whole chain was recomputed',
      )
      .option(
        '--checkpoints <dir>',
        'a directory of signed checkpoints (AUDIT_CHECKPOINT_DIR of introspection)',
      )
      .option(
        '--checkpoint-key <file>',
        'the public key (JWK or SPKI PEM) the checkpoints must verify with; default: the public half of AUDIT_CHECKPOINT_SIGNING_KEY',
      )
      .option(
        '--archives <dir>',
        'also check every retention archive in <dir> whole (checksum, every event hash); without it the ' +
          'manifests of RETENTION_ARCHIVE_DIR, when set, account for archived events',
      ),
  ).action((o: AuditVerifyOptions, cmd: Command) => auditVerifyAction(ctx, o, cmd));
  registerCheckpoints(audit, ctx);
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

interface AuditVerifyOptions {
  checkpoints?: string;
  checkpointKey?: string;
  archives?: string;
}

/** `audit verify`: the chain alone, with signed checkpoints, and with retention archives. */
async function auditVerifyAction(ctx: CliContext, o: AuditVerifyOptions, cmd: Command): Promise<void> {
  const config = await ctx.direct(cmd, 'Postgres');
  await ctx.requirePostgres(config.databaseUrl);
  const audit = await import('./commands/audit.command.js');
  const withArchives = o.archives !== undefined || config.retentionArchiveDir !== undefined;
  if (o.checkpoints === undefined) {
    if (withArchives) {
      const retention = await import('./commands/retention.command.js');
      const report = await retention.auditReportWithArchives(config, o.archives, o.archives !== undefined);
      ctx
        .out(cmd)
        .data(retention.archivedChainDocument(report), () => retention.describeArchivedChain(report));
      if (report.chain.break || report.archiveProblem) process.exitCode = 1;
      return;
    }
    const report = await audit.auditReport(config.databaseUrl);
    ctx.out(cmd).data(audit.chainDocument(report), () => audit.describeChain(report));
    if (report.break) process.exitCode = 1;
    return;
  }
  const dir = o.checkpoints;
  const keyMaterial = await checkpointKeyMaterial(o.checkpointKey, () => config.auditCheckpointSigningKey);
  const retention = withArchives ? await import('./commands/retention.command.js') : null;
  const archives = retention
    ? await retention.archivesForVerification(config, o.archives, o.archives !== undefined)
    : null;
  const { chain, checkpoints } = await audit.auditWithCheckpoints(
    config.databaseUrl,
    { dir, keyMaterial },
    archives ? { archived: archives.links } : undefined,
  );
  const archiveMembers =
    retention && archives ? retention.archivesDocument(archives, chain.archived ?? 0) : {};
  ctx.out(cmd).data(
    {
      ...audit.chainDocument(chain),
      ...archiveMembers,
      checkpoints: checkpoints && audit.checkpointsDocument(checkpoints),
    },
    () => [
      ...audit.describeChain(chain),
      ...(checkpoints ? audit.describeCheckpoints(checkpoints, dir) : []),
      ...(archives?.archiveProblem ? [`archive BROKEN: ${archives.archiveProblem.message}`] : []),
    ],
  );
  if (chain.break || (checkpoints?.problems.length ?? 0) > 0 || archives?.archiveProblem) {
    process.exitCode = 1;
  }
}

/** `audit checkpoint` and `audit checkpoint-keygen` (docs/events.md "Checkpoints"). */
function registerCheckpoints(audit: Command, ctx: CliContext): void {
  withJson(
    audit
      .command('checkpoint')
      .description(
        'sign the chain head now with AUDIT_CHECKPOINT_SIGNING_KEY: writes the checkpoints of the events after ' +
          'the last one of the directory (refused if the chain no longer continues from it)',
      )
      .option('--dir <dir>', 'where to write (default AUDIT_CHECKPOINT_DIR)'),
  ).action(async (o: { dir?: string }, cmd: Command) => {
    const config = await ctx.direct(cmd, 'Postgres');
    const dir = o.dir ?? config.auditCheckpointDir;
    if (dir === undefined) throw new CliError('give --dir or set AUDIT_CHECKPOINT_DIR');
    const keyMaterial = config.auditCheckpointSigningKey;
    if (keyMaterial === undefined) {
      throw new CliError('AUDIT_CHECKPOINT_SIGNING_KEY is not set (`audit checkpoint-keygen` makes one)');
    }
    await ctx.requirePostgres(config.databaseUrl);
    const { writeCheckpointNow } = await import('./commands/audit.command.js');
    const written = await writeCheckpointNow(config.databaseUrl, dir, keyMaterial, () => new Date());
    ctx
      .out(cmd)
      .data({ written }, () =>
        written.length === 0
          ? 'the chain head has not moved since the last checkpoint: nothing written'
          : written.map((c) => `checkpoint at position ${c.position} (${c.count} event(s)) hash ${c.hash}`),
      );
  });
  audit
    .command('checkpoint-keygen')
    .description(
      'make an Ed25519 key for AUDIT_CHECKPOINT_SIGNING_KEY: prints the private JWK on stdout (keep it secret)',
    )
    .option('--public-out <file>', 'also write the public JWK here (for `audit verify --checkpoint-key`)')
    .action(async (o: { publicOut?: string }) => {
      const { generateCheckpointKey } = await import('#lib/event-store');
      const { writeFile } = await import('node:fs/promises');
      const key = await generateCheckpointKey();
      if (o.publicOut !== undefined) {
        await writeFile(o.publicOut, `${JSON.stringify(key.publicJwk)}\n`, { mode: 0o644 });
        process.stderr.write(`public key ${key.kid} written to ${o.publicOut}\n`);
      }
      process.stdout.write(`${JSON.stringify(key.privateJwk)}\n`);
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

/** The key checkpoints verify with: the file given, else the signing key of the environment. */
async function checkpointKeyMaterial(
  file: string | undefined,
  fromEnvironment: () => string | undefined,
): Promise<string> {
  if (file !== undefined) {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read --checkpoint-key ${file}: ${(err as Error).message}`);
    }
  }
  const material = fromEnvironment();
  if (material === undefined) {
    throw new CliError('give --checkpoint-key <public JWK file> or set AUDIT_CHECKPOINT_SIGNING_KEY');
  }
  return material;
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
    const { describeRetention, retentionDocument, retentionRun, yieldCpu } =
      await import('./commands/retention.command.js');
    const priority = yieldCpu();
    const report = await retentionRun(config, o.dryRun === true);
    ctx.out(cmd).data(retentionDocument(report, priority), () => describeRetention(report));
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
