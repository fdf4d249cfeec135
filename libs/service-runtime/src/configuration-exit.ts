import { ConfigError } from '#lib/config';

/**
 * Exit status of a process that cannot run with the configuration it was given (sysexits.h
 * EX_CONFIG). Starting it again with the same settings changes nothing, so a supervisor
 * (`npm start`) stops with the reason instead of restarting it.
 */
export const CONFIGURATION_ERROR_EXIT_CODE = 78;

/**
 * For a start-up failure: a ConfigError ends the process with CONFIGURATION_ERROR_EXIT_CODE after
 * one line on stderr per setting to change (`<service>: configuration error: <what to change>`); anything else is
 * rethrown (a dependency that is down, a bug: a restart may help).
 */
export function exitOnConfigurationError(service: string, err: unknown): never {
  if (!(err instanceof ConfigError)) throw err;
  for (const problem of err.problems) process.stderr.write(`${service}: configuration error: ${problem}\n`);
  process.exit(CONFIGURATION_ERROR_EXIT_CODE);
}
