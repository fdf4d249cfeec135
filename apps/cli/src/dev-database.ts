import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Config } from '#lib/config';
import { clientStreamId } from '#lib/domain-client';
import type { RecordedEvent } from '#lib/event-store';
import { natsAuth, redactUrl, serverUrl } from '#lib/service-runtime';
import {
  evolveKeyring,
  initialKeyringState,
  keysSealedUnderOtherKeks,
  SIGNING_KEYRING_STREAM,
} from '#lib/signing-keys';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DEMO_CLIENT_ID } from './commands/demo-client.command.js';
import { SECRETS_FILE } from './secrets-file.js';

/** The documented way to start again from an empty development database. */
export const RESET_DATABASE_COMMAND = 'npm run cli -- dev reset-database';

/** The client `npm start` registers at every start. */
const DEMO_CLIENT_STREAM = clientStreamId(DEMO_CLIENT_ID);

/** `npm start` refused a database that was set up with other development secrets. */
export class DatabaseOfOtherSecrets extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseOfOtherSecrets';
  }
}

/** `dev reset-database` refused: nothing was changed. */
export class ResetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResetRefused';
  }
}

function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
}

function where(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${databaseName(databaseUrl)} on ${url.host}`;
}

/**
 * `npm start`, before it starts anything (its NATS, the processes): the token service cannot sign
 * with keys its KEY_ENCRYPTION_KEY does not open, and would stop at every restart. A database set
 * up by another checkout (its own .data/secrets.env) is refused here with the two ways out.
 * `kekSource` says where this start's KEY_ENCRYPTION_KEY came from (a file, or the environment).
 * A database that cannot be reached, does not exist yet or has no events is left to the start
 * (which says what is missing, or sets it up).
 *
 * The secret-hash, cookie and CSRF keys cannot be checked the same way: only HMACs and sealed
 * values made with them exist, and no secret they were made of is kept. `npm start` generates them
 * with the key-encryption key, so another checkout's database is told by its signing keys.
 */
export async function refuseDatabaseOfOtherSecrets(config: Config, kekSource: string): Promise<void> {
  // The secrets the processes read when they need them, read now: a malformed one stops the start
  // here (ConfigError), not a process at every restart.
  const keks = [config.keyEncryptionKey, ...config.previousKeyEncryptionKeys];
  void [config.adminToken, config.secretHashKeys, config.cookieSealingKeys, config.csrfKeys];
  const events = await keyringEvents(config.databaseUrl);
  const keyring = events.reduce(evolveKeyring, initialKeyringState());
  const unopened = keysSealedUnderOtherKeks(keyring, keks);
  if (unopened.length === 0) return;
  throw new DatabaseOfOtherSecrets(
    `the database ${where(config.databaseUrl)} was set up with other development secrets: the ` +
      `KEY_ENCRYPTION_KEY of ${kekSource} does not open its signing key ${unopened[0]!.kid}. Either ` +
      `start with the secrets that set it up (that checkout's .data/secrets.env, copied over ` +
      `${SECRETS_FILE} or named by SECRETS_FILE), or reset the development database, losing its ` +
      `data: ${RESET_DATABASE_COMMAND}`,
  );
}

/**
 * The signing keyring's events, read with the columns of the first migration (the database may
 * not be migrated to this checkout's schema yet); none when there is no database to read.
 */
async function keyringEvents(databaseUrl: string): Promise<RecordedEvent[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch {
    // Not there yet (created by the migration) or not reachable (the start names the dependency).
    return [];
  }
  try {
    const { rows } = await client.query<{ present: boolean }>(
      `SELECT to_regclass('events') IS NOT NULL AS present`,
    );
    if (!rows[0]!.present) return [];
    const result = await client.query<{
      event_id: string;
      global_position: string;
      stream_version: number;
      type: string;
      schema_version: number;
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
      recorded_at: Date;
    }>(
      `SELECT event_id, global_position, stream_version, type, schema_version, data, metadata, recorded_at
       FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [SIGNING_KEYRING_STREAM],
    );
    return result.rows.map((row) => ({
      eventId: row.event_id,
      globalPosition: Number(row.global_position),
      streamId: SIGNING_KEYRING_STREAM,
      streamVersion: row.stream_version,
      type: row.type,
      schemaVersion: row.schema_version,
      data: row.data,
      metadata: row.metadata,
      recordedAt: row.recorded_at,
    }));
  } finally {
    await client.end();
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i;

function natsHosts(servers: string[]): string[] {
  return servers.map((s) => new URL(s.includes('://') ? s : `nats://${s}`).hostname);
}

/**
 * `dev reset-database`: drops the database of DATABASE_URL and deletes the JetStream stream that
 * relays its events (a stream left behind would make the relay of the next database resume after
 * positions it never had), so that the next `npm start` sets both up anew with this checkout's
 * secrets. The stream is EVENTS_STREAM on the server of NATS_URL when it is set; else the JetStream
 * store of `npm start`'s own NATS (`devBusDir`/jetstream, this checkout's), which holds only it.
 *
 * Refuses, changing nothing, unless it is a development database: Postgres (and NATS, when
 * NATS_URL names one) on this machine (loopback addresses), and a database that `npm start` set up
 * (it holds the demo client, registered at every start) or that holds no client at all. A
 * database in use (a system still running on it) is not dropped.
 */
export async function resetDevelopmentDatabase(
  config: Config,
  devBusDir: string | null,
  print: (line: string) => void,
): Promise<void> {
  const name = databaseName(config.databaseUrl);
  const pgHost = new URL(config.databaseUrl).hostname;
  const foreignNats =
    devBusDir === null ? natsHosts(config.natsServers).filter((h) => !LOOPBACK.test(h)) : [];
  if (!LOOPBACK.test(pgHost) || foreignNats.length > 0) {
    throw new ResetRefused(
      `nothing reset: ${
        LOOPBACK.test(pgHost) ? `NATS_URL names ${foreignNats.join(', ')}` : `DATABASE_URL names ${pgHost}`
      }, not this machine; only a development database on this machine is reset`,
    );
  }
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new ResetRefused(`unsupported database name in DATABASE_URL: ${name}`);

  const admin = new pg.Client({
    connectionString: serverUrl(config.databaseUrl),
    connectionTimeoutMillis: 3000,
  });
  await admin.connect();
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount! > 0;
    if (exists) await refuseUnlessDevelopment(config.databaseUrl);
    // A NATS of NATS_URL first: when it is down, nothing has been dropped yet.
    const nc = devBusDir === null ? await connectToNats(config) : null;
    try {
      if (exists) {
        try {
          await admin.query(`DROP DATABASE "${name}"`);
        } catch (err) {
          // 55006 object_in_use: sessions are open on it.
          if ((err as { code?: string }).code !== '55006') throw err;
          throw new ResetRefused(
            `nothing reset: the database ${where(config.databaseUrl)} is in use (is \`npm start\` still ` +
              'running?); stop it first',
          );
        }
        print(`dropped database ${redactUrl(config.databaseUrl)}`);
      } else {
        print(`no database ${where(config.databaseUrl)} to drop`);
      }
      if (nc !== null) {
        const jsm = await jetstreamManager(nc);
        try {
          await jsm.streams.delete(config.eventsStream);
          print(`deleted JetStream stream ${config.eventsStream}`);
        } catch (err) {
          if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
          print(`no JetStream stream ${config.eventsStream} to delete`);
        }
      } else {
        const store = join(devBusDir!, 'jetstream');
        if (existsSync(store)) {
          rmSync(store, { recursive: true, force: true });
          print(`deleted the JetStream store of npm start's NATS (${store})`);
        } else {
          print(`no JetStream store of npm start's NATS to delete (${store})`);
        }
      }
    } finally {
      await nc?.close();
    }
  } finally {
    await admin.end();
  }
  print('the next `npm start` sets the database up anew with the secrets it uses');
}

async function connectToNats(config: Config): Promise<NatsConnection> {
  try {
    return await connect({
      servers: config.natsServers,
      ...natsAuth(config),
      timeout: 3000,
      maxReconnectAttempts: 0,
    });
  } catch (err) {
    throw new ResetRefused(
      `nothing reset: NATS at ${config.natsServers.join(',')} is not reachable (${(err as Error).message}); ` +
        `start it first: the reset also deletes the JetStream stream ${config.eventsStream}`,
    );
  }
}

async function refuseUnlessDevelopment(databaseUrl: string): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  await db.connect();
  try {
    const hasEvents = (
      await db.query(`SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'events'`)
    ).rowCount!;
    if (hasEvents === 0) return;
    const { rows } = await db.query<{ demo: boolean; clients: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1) AS demo,
              EXISTS (SELECT 1 FROM events WHERE stream_id LIKE 'client-%') AS clients`,
      [DEMO_CLIENT_STREAM],
    );
    if (rows[0]!.demo || !rows[0]!.clients) return;
  } finally {
    await db.end();
  }
  throw new ResetRefused(
    `nothing reset: the database ${where(databaseUrl)} holds clients but not the demo client that ` +
      '`npm start` registers, so it is not a development database of `npm start`; drop it yourself ' +
      'if it is one',
  );
}
