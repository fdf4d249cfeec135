import { type Env, int, str } from './env.js';

export interface DatabaseConfig {
  /** DATABASE_URL: Postgres holding the event store and the projections. Default postgres://postgres@127.0.0.1:5432/authz. */
  databaseUrl: string;
  /** DATABASE_POOL_SIZE: connections per process. Default 10. */
  databasePoolSize: number;
}

export function readDatabaseConfig(env: Env): DatabaseConfig {
  return {
    databaseUrl: str(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/authz'),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
  };
}
