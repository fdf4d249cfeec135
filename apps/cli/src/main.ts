import 'reflect-metadata';
import { CommanderError } from 'commander';
import { OAuthError } from '#lib/oauth-errors';
import { CliContext } from './cli-context.js';
import { CliError, CliLogger } from './output.js';
import { buildProgram } from './program.js';

/**
 * Settings `npm start` generated in `.data/` (secrets, and the dev bus the CLI then connects to as
 * its own NATS user); values in the environment win.
 */
async function useDevEnvironment(): Promise<void> {
  const { loadDevSecrets } = await import('./secrets-file.js');
  const { devBusEnvironmentForCli } = await import('./dev-bus.js');
  const secrets = loadDevSecrets({ create: false });
  Object.assign(process.env, { ...secrets, ...devBusEnvironmentForCli(secrets), ...process.env });
}

/** Exit code of a usage error (an unknown command or option, a missing argument). */
const USAGE_ERROR = 2;

async function main(argv: string[]): Promise<void> {
  const logger = new CliLogger(process.env.LOG_LEVEL);
  const program = buildProgram(new CliContext(logger, useDevEnvironment));
  program.hook('preAction', async (_program, action) => {
    logger.json = action.opts<{ json?: boolean }>().json === true;
    // Nest's NATS client logs through its Logger: to stderr, never before the result on stdout.
    // `serve` runs an app in this process, which logs as every app does (structured, on stdout).
    if (action.name() !== 'serve') (await import('@nestjs/common')).Logger.overrideLogger(logger);
  });
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the help, or the error and a hint, to stderr.
      process.exit(err.exitCode === 0 ? 0 : USAGE_ERROR);
    }
    const message =
      err instanceof OAuthError
        ? `error: ${err.error}: ${err.description}`
        : err instanceof Error && err.name === 'ConfigError'
          ? err.message.replace(/^/gm, 'configuration error: ')
          : err instanceof CliError
            ? `error: ${err.message}`
            : `error: ${err instanceof Error ? err.message : String(err)}`;
    if (logger.json) logger.line('error', message.replace(/^error: /, ''));
    else console.error(message);
    process.exit(1);
  }
}

void main(process.argv.slice(2));
