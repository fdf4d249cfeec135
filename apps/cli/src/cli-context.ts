import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Config } from '#lib/config';
import type { AdminPlane } from './admin-plane.js';
import { CliError, type CliLogger, type Output, output } from './output.js';

/**
 * What every command's action is given: its output, and the way to the system it chose. The
 * heavy modules (Nest's NATS client, Postgres, the domain) load when an action needs them, so
 * that `--help` and usage errors answer at once.
 */
export class CliContext {
  constructor(
    readonly logger: CliLogger,
    /** Loads `.data/` settings of `npm start` (development) under the environment's. */
    readonly useDevEnvironment: () => Promise<void>,
  ) {}

  out(cmd: Command): Output {
    return output(cmd.opts<{ json?: boolean }>().json === true);
  }

  private adminUrl(cmd: Command): string | undefined {
    return cmd.optsWithGlobals<{ adminUrl?: string }>().adminUrl || process.env.ADMIN_URL || undefined;
  }

  /**
   * HTTP to the admin listener when --admin-url or ADMIN_URL names it (with --admin-token,
   * ADMIN_ACCESS_TOKEN or ADMIN_TOKEN as the bearer); else NATS, as the CLI's bus user.
   */
  async adminPlane(cmd: Command): Promise<AdminPlane> {
    const url = this.adminUrl(cmd);
    if (url === undefined) {
      const { NatsAdminPlane } = await import('./admin-plane-nats.js');
      return new NatsAdminPlane(await this.config());
    }
    const { adminBase, HttpAdminPlane, inClear } = await import('./admin-plane-http.js');
    const base = adminBase(url);
    const token =
      cmd.optsWithGlobals<{ adminToken?: string }>().adminToken ||
      process.env.ADMIN_ACCESS_TOKEN ||
      process.env.ADMIN_TOKEN;
    if (!token)
      throw new CliError(
        'the admin API needs an administrator credential: set ADMIN_ACCESS_TOKEN (an access token with scope admin) ' +
          'or ADMIN_TOKEN, or give --admin-token',
      );
    if (inClear(base))
      this.logger.line(
        'warn',
        `the admin token goes to ${base.origin} over plain http: use https, or kubectl port-forward to 127.0.0.1`,
      );
    return new HttpAdminPlane(base, token);
  }

  /**
   * The settings of a command that needs NATS or Postgres itself, which the admin API does not
   * offer: refused with --admin-url / ADMIN_URL, saying where to run it instead.
   */
  async direct(cmd: Command, needs: 'NATS' | 'Postgres'): Promise<Config> {
    if (this.adminUrl(cmd) !== undefined) {
      throw new CliError(
        `\`${commandPath(cmd)}\` needs direct access to ${needs} (${needs === 'NATS' ? 'NATS_URL' : 'DATABASE_URL'}); ` +
          'the admin API does not offer it. Unset ADMIN_URL / drop --admin-url and run it where ' +
          `${needs} is reachable, e.g. inside the cluster (docs/operations.md, "Running the CLI in a cluster").`,
      );
    }
    return this.config();
  }

  /** The settings (libs/config) from the environment. */
  async config(): Promise<Config> {
    const { loadConfig } = await import('#lib/config');
    return loadConfig();
  }

  /** DATABASE_URL's server answers, or a CliError naming it. */
  async requirePostgres(databaseUrl: string): Promise<void> {
    const { checkPostgres } = await import('#lib/service-runtime');
    const problem = await checkPostgres(databaseUrl);
    if (problem !== null) throw new CliError(problem);
  }
}

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Adds --json to a command that prints data. */
export function withJson(cmd: Command): Command {
  return cmd.option(
    '--json',
    'print one JSON document on stdout (snake_case, as the admin API); logs go to stderr',
  );
}

/** An option value that must be an integer in [min, max]. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** A repeatable option: each occurrence (and each comma- or space-separated item) appended. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(/[ ,]+/).filter((v) => v !== '')];
}

/** A repeatable option taken verbatim (a URI may hold a comma). */
export function append(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A text rendering of a document: one `member: value` line each. */
export function formatDocument(doc: Record<string, unknown>): string[] {
  return Object.entries(doc).map(([k, v]) => {
    const text =
      v === null || v === undefined
        ? '-'
        : Array.isArray(v) && v.every((x) => typeof x !== 'object')
          ? v.join(' ')
          : typeof v === 'object'
            ? JSON.stringify(v)
            : String(v);
    return `${k}: ${text}`;
  });
}
