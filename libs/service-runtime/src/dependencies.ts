import { connect } from '@nats-io/transport-node';
import type { DatabaseConfig, NatsConfig } from '#lib/config';
import pg from 'pg';
import { natsAuth } from './nats-options.js';

type NatsAuth = {
  user?: string;
  pass?: string;
  token?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
};

/**
 * Start-up check: when Postgres or NATS cannot be reached, the process says
 * which one, where it looked and how to provide it, then exits non-zero.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export async function checkPostgres(databaseUrl: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    if ((err as { code?: string }).code === '3D000') {
      return `The database of ${redactUrl(databaseUrl)} does not exist. Create it and its tables with \`npm run migrate\`.`;
    }
    return (
      `Postgres is not reachable at ${redactUrl(databaseUrl)} (${(err as Error).message}). ` +
      'Start it (e.g. `pg_ctlcluster 15 main start`, or `docker compose up -d postgres`) ' +
      'or point DATABASE_URL at a running server.'
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same server's maintenance database, for checks made before our database exists. */
export function serverUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  return u.toString();
}

/**
 * The bus must know who is talking (ARCHITECTURE.md, trust between processes): in production a
 * process refuses a NATS server that asks for no credentials, unless the operator says so.
 */
export interface BusAuthenticationRule {
  production: boolean;
  allowUnauthenticated: boolean;
}

export async function checkNats(servers: string[], auth: NatsAuth, rule?: BusAuthenticationRule) {
  try {
    const nc = await connect({ servers, ...auth, timeout: 3000, maxReconnectAttempts: 0 });
    try {
      const info = nc.info;
      if (info && info.jetstream === false) {
        return `NATS at ${servers.join(',')} runs without JetStream. Start nats-server with -js.`;
      }
      if (rule?.production && !rule.allowUnauthenticated && info?.auth_required !== true) {
        return (
          `NATS at ${servers.join(',')} asks for no credentials, so anyone who reaches it can publish ` +
          'commands and read replies. Give each service its own NATS user (docs/operations.md, "The bus"), ' +
          'or set NATS_ALLOW_UNAUTHENTICATED=true to run on it anyway.'
        );
      }
    } finally {
      await nc.close();
    }
    return null;
  } catch (err) {
    return (
      `NATS is not reachable at ${servers.join(',')} (${(err as Error).message}). ` +
      'Start it with JetStream (e.g. `nats-server -js`, or `docker compose up -d nats`) ' +
      'or point NATS_URL at a running server.'
    );
  }
}

export async function requireDependencies(
  what: {
    databaseUrl?: string;
    /** Unset: NATS is not checked (a process that uses no bus, such as `migrate`). */
    natsServers?: string[];
    natsAuth?: NatsAuth;
    busRule?: BusAuthenticationRule;
  },
  log: (line: string) => void = (l) => console.error(l),
): Promise<void> {
  const problems = (
    await Promise.all([
      what.databaseUrl ? checkPostgres(what.databaseUrl) : Promise.resolve(null),
      what.natsServers
        ? checkNats(what.natsServers, what.natsAuth ?? {}, what.busRule)
        : Promise.resolve(null),
    ])
  ).filter((p): p is string => p !== null);
  if (problems.length > 0) {
    for (const p of problems) log(p);
    process.exit(1);
  }
}

/** What a process checks about NATS (and Postgres, when it has a database) before it starts. */
export function natsRequirements(
  config: NatsConfig & { nodeEnv: string },
  database?: DatabaseConfig,
): Parameters<typeof requireDependencies>[0] {
  return {
    ...(database ? { databaseUrl: database.databaseUrl } : {}),
    natsServers: config.natsServers,
    natsAuth: natsAuth(config),
    busRule: {
      production: config.nodeEnv === 'production',
      allowUnauthenticated: config.natsAllowUnauthenticated,
    },
  };
}
