import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { loadConfig } from '#lib/config';
import { createEventStoreDataSource, PgEventStore } from '#lib/event-store';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import {
  archivedChainDocument,
  auditReportWithArchives,
  retentionDocument,
  retentionRestore,
  retentionRun,
} from './retention.command.js';

/** The CLI's retention commands against a database with one expired client-credentials token. */
describe('retention run / restore and audit verify --archives (CLI)', () => {
  let db: TestDatabase;
  let dir: string;
  const token = `access-token-${randomUUID()}`;

  beforeAll(async () => {
    db = await createTestDatabase('retention_cli');
    await runMigrations(db.url);
    dir = await mkdtemp(join(tmpdir(), 'retention-cli-'));
    const ds = createEventStoreDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    const store = new PgEventStore(ds);
    await store.appendToStream(token, 0, [
      { type: 'AccessTokenIssued', data: { grantType: 'client_credentials', exp: 1_000_000_000 } },
    ]);
    await store.appendToStream(`user-${randomUUID()}`, 0, [{ type: 'UserRegistered', data: {} }]);
    await ds.destroy();
  });

  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('RET-CLI-01 archives the expired token, verifies across the gap, and restores it', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const config = loadConfig({
      DATABASE_URL: db.url,
      RETENTION_ARCHIVE_DIR: dir,
      RETENTION_ACCESS_TOKEN_DAYS: '0',
      RETENTION_SIGNING_KEY: JSON.stringify(await exportJWK(privateKey)),
    });
    const dry = retentionDocument(await retentionRun(config, true));
    expect(dry).toMatchObject({ dry_run: true, streams: [token], archives: [] });
    const run = retentionDocument(await retentionRun(config, false));
    expect(run).toMatchObject({
      dry_run: false,
      streams: [token],
      archives: [{ events: 1, resumed: false }],
    });

    const verified = archivedChainDocument(await auditReportWithArchives(config, dir, true));
    expect(verified).toMatchObject({ intact: true, archived: 1, archives: 1, archive_problem: null });

    const restored = await retentionRestore(config, token, undefined);
    expect(restored.events).toBe(1);
    expect(archivedChainDocument(await auditReportWithArchives(config, undefined, false))).toMatchObject({
      intact: true,
      archived: 0,
    });
  });
});
