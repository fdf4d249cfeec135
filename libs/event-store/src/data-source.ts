import { DataSource, MigrationExecutor, type DataSourceOptions } from 'typeorm';
import { Events1795625234752 } from './migrations/1795625234752-events.js';
import { EventHashChain1795710000000 } from './migrations/1795710000000-event-hash-chain.js';
import { ProjectionExpiry1795710000001 } from './migrations/1795710000001-projection-expiry.js';
import { AuditIndexes1795710000002 } from './migrations/1795710000002-audit-indexes.js';
import { AuditGrantUserIndexes1795710000003 } from './migrations/1795710000003-audit-grant-user-indexes.js';
import { GrantRevokedIndex1795710000004 } from './migrations/1795710000004-grant-revoked-index.js';
import { LoginThrottle1795711000000 } from './migrations/1795711000000-login-throttle.js';
import { StreamSnapshots1795712000000 } from './migrations/1795712000000-stream-snapshots.js';
import { PersonalDataKeys1796000000000 } from './migrations/1796000000000-personal-data-keys.js';
import { EventArchives1796100000000 } from './migrations/1796100000000-event-archives.js';
import { RetentionScan1796200000000 } from './migrations/1796200000000-retention-scan.js';

/** The event store's migrations, oldest first; apps append theirs after these. */
export const eventStoreMigrations = [
  Events1795625234752,
  EventHashChain1795710000000,
  ProjectionExpiry1795710000001,
  AuditIndexes1795710000002,
  AuditGrantUserIndexes1795710000003,
  GrantRevokedIndex1795710000004,
  LoginThrottle1795711000000,
  StreamSnapshots1795712000000,
  PersonalDataKeys1796000000000,
  EventArchives1796100000000,
  RetentionScan1796200000000,
];

/** Key of the session advisory lock held while migrations run, so replicas starting together wait. */
const MIGRATION_LOCK = 4_201_779_230_001n;

export interface EventStoreDataSourceOptions {
  /** Connections in the pool (pg default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Milliseconds to wait for a connection before failing (default 5000). */
  connectTimeoutMs?: number;
  logging?: boolean;
  entities?: DataSourceOptions['entities'];
  /** Migration classes run after the event store's own. */
  migrations?: NonNullable<DataSourceOptions['migrations']>;
}

/** TypeORM options for the event store's database; the schema comes only from migrations. */
export function eventStoreDataSourceOptions(
  url: string,
  options: EventStoreDataSourceOptions = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    poolSize: options.poolSize,
    applicationName: options.applicationName,
    connectTimeoutMS: options.connectTimeoutMs ?? 5000,
    logging: options.logging ?? false,
    entities: options.entities ?? [],
    synchronize: false,
    migrationsRun: false,
    migrations: [...eventStoreMigrations, ...Object.values(options.migrations ?? [])],
    migrationsTableName: 'schema_migrations',
  };
}

/** A DataSource for the event store, not yet initialized. */
export function createEventStoreDataSource(url: string, options?: EventStoreDataSourceOptions): DataSource {
  return new DataSource(eventStoreDataSourceOptions(url, options));
}

/**
 * Runs pending migrations, each in its own transaction, on one connection holding a session advisory
 * lock, so that replicas starting together apply them once (and a pool of one suffices).
 * Initializes the DataSource if needed. Returns the names of the migrations applied.
 */
export async function runEventStoreMigrations(dataSource: DataSource): Promise<string[]> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  const qr = dataSource.createQueryRunner();
  try {
    await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      const executor = new MigrationExecutor(dataSource, qr);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  } finally {
    await qr.release();
  }
}
