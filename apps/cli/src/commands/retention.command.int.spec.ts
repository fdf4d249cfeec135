import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { loadConfig } from '#lib/config';
import { createEventStoreDataSource, generateCheckpointKey, PgEventStore } from '#lib/event-store';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { auditWithCheckpoints, writeCheckpointNow } from './audit.command.js';
import {
  archivedChainDocument,
  archivesForVerification,
  auditReportWithArchives,
  retentionDocument,
  retentionRestore,
  retentionRun,
  retentionRunOptions,
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

  it('RET-CLI-03 a run goes on until its scan has come round once unless RETENTION_MAX_ARCHIVES caps it; paced by RETENTION_DUTY_CYCLE', () => {
    const unlimited = retentionRunOptions(loadConfig({ DATABASE_URL: db.url }), false);
    expect(unlimited).toMatchObject({ maxArchives: Infinity, maxCandidates: Infinity, dutyCycle: 0.5 });
    const capped = retentionRunOptions(
      loadConfig({ DATABASE_URL: db.url, RETENTION_MAX_ARCHIVES: '3', RETENTION_DUTY_CYCLE: '100' }),
      false,
    );
    expect(capped).toMatchObject({ maxArchives: 3, dutyCycle: 1 });
    expect(capped.maxCandidates).toBeUndefined();
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

  it('RET-CLI-02 a checkpoint signed before an archive run still checks out through the manifests', async () => {
    const db2 = await createTestDatabase('retention_ckpt');
    const dir2 = await mkdtemp(join(tmpdir(), 'retention-ckpt-'));
    const checkpoints = await mkdtemp(join(tmpdir(), 'retention-ckpt-signed-'));
    try {
      await runMigrations(db2.url);
      const ds = createEventStoreDataSource(db2.url, { poolSize: 1 });
      await ds.initialize();
      const store = new PgEventStore(ds);
      const keyMaterial = JSON.stringify((await generateCheckpointKey()).privateJwk);
      const clock = () => new Date();
      await store.appendToStream('user-a', 0, [{ type: 'X', data: {} }]);
      const tok = `access-token-${randomUUID()}`;
      await store.appendToStream(tok, 0, [
        { type: 'AccessTokenIssued', data: { grantType: 'client_credentials', exp: 1_000_000_000 } },
      ]);
      // Signed while the token's event is the head: the checkpoint names an event archived later.
      expect(await writeCheckpointNow(db2.url, checkpoints, keyMaterial, clock)).toHaveLength(1);
      await store.appendToStream('user-b', 0, [{ type: 'X', data: {} }]);
      await ds.destroy();
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const config = loadConfig({
        DATABASE_URL: db2.url,
        RETENTION_ARCHIVE_DIR: dir2,
        RETENTION_ACCESS_TOKEN_DAYS: '0',
        RETENTION_SIGNING_KEY: JSON.stringify(await exportJWK(privateKey)),
      });
      expect((await retentionRun(config, false)).streams).toEqual([tok]);

      const without = await auditWithCheckpoints(db2.url, { dir: checkpoints, keyMaterial });
      expect(without.chain.break?.kind).toBe('removed');
      expect(without.checkpoints?.problems.length).toBeGreaterThan(0);
      const archives = await archivesForVerification(config, undefined, true);
      const withArchives = await auditWithCheckpoints(
        db2.url,
        { dir: checkpoints, keyMaterial },
        { archived: archives.links },
      );
      expect(withArchives.chain.break).toBeNull();
      expect(withArchives.checkpoints).toMatchObject({ checked: 1, ok: 1, problems: [] });
    } finally {
      await db2.drop();
      await rm(dir2, { recursive: true, force: true });
      await rm(checkpoints, { recursive: true, force: true });
    }
  });
});
