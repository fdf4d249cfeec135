import type { DataSource } from 'typeorm';
import { createEventStoreDataSource } from '#lib/event-store';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { describeLoginAttemptStoreContract } from '../../../../libs/domain-consent/src/testing/index.js';
import { PgLoginAttemptStore } from './pg-login-attempt-store.js';

/**
 * The login_throttle table against the LoginAttemptStore contract, with two stores on two pools of
 * one database: two consent replicas share the counts (RFC 6749 §10.10: the limit holds across
 * replicas).
 */
let db: TestDatabase;
let replicas: DataSource[];

beforeAll(async () => {
  db = await createTestDatabase('login_throttle');
  await runMigrations(db.url);
  replicas = [
    createEventStoreDataSource(db.url, { poolSize: 4 }),
    createEventStoreDataSource(db.url, { poolSize: 4 }),
  ];
  await Promise.all(replicas.map((r) => r.initialize()));
}, 30000);

afterAll(async () => {
  await Promise.all((replicas ?? []).map((r) => r.destroy().catch(() => undefined)));
  await db?.drop();
});

describeLoginAttemptStoreContract('PgLoginAttemptStore', () => [
  new PgLoginAttemptStore(replicas[0]!),
  new PgLoginAttemptStore(replicas[1]!),
]);
