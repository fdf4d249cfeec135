import { createEventStoreDataSource, runEventStoreMigrations } from '#lib/event-store';
import { redactUrl } from '#lib/service-runtime';
import pg from 'pg';

/** Creates the database when it does not exist, then applies every pending migration. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsupported database name in DATABASE_URL: ${name}`);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`create database "${name}"`);
      console.log(`created database ${name}`);
    }
  } catch (err) {
    // 42P04: created concurrently by another process.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}

export async function migrate(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  const ds = createEventStoreDataSource(databaseUrl, { poolSize: 1 });
  await ds.initialize();
  try {
    await runEventStoreMigrations(ds);
    console.log(`migrations applied to ${redactUrl(databaseUrl)}`);
  } finally {
    await ds.destroy();
  }
}
