import { z } from 'zod';
import { int, settings } from './env.js';

export const databaseSettings = settings({
  /** DATABASE_URL: Postgres holding the event store and the projections. Default postgres://postgres@127.0.0.1:5432/authz. */
  databaseUrl: ['DATABASE_URL', z.string().default('postgres://postgres@127.0.0.1:5432/authz')],
  /** DATABASE_POOL_SIZE: connections per process. Default 10. */
  databasePoolSize: ['DATABASE_POOL_SIZE', int(1, 200).default(10)],
});

export type DatabaseConfig = z.output<typeof databaseSettings>;
