import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import pg from 'pg';
import {
  archiveFileName,
  buildManifest,
  createEventStoreDataSource,
  encodeArchive,
  eventHash,
  manifestFileName,
  PgEventStore,
  signManifest,
} from '#lib/event-store';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';

/**
 * Retention deletes from a log that otherwise refuses deletes. An attacker with SQL access to the
 * database, or write access to the archive directory, tries to use that path to hide a deletion
 * or to plant history: the signed manifests (RFC 7515, Ed25519 RFC 8037) held by the operator are
 * what `audit verify` trusts, never the database's own record of archives.
 */

const CLI = resolve(process.cwd(), 'dist/apps/cli/src/main.js');

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 30000 },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

async function ed25519(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return exportJWK(privateKey);
}

interface Setup {
  db: TestDatabase;
  sql: pg.Client;
  dir: string;
  env: Record<string, string>;
  store: PgEventStore;
  close: () => Promise<void>;
}

/** A log with two expired client-credentials tokens between live events, archived by the operator. */
async function archivedLog(): Promise<Setup> {
  const db = await createTestDatabase('retention_attack');
  await runMigrations(db.url);
  const ds = createEventStoreDataSource(db.url, { poolSize: 2 });
  await ds.initialize();
  const store = new PgEventStore(ds);
  const issued = (exp: number) => [
    { type: 'AccessTokenIssued', data: { grantType: 'client_credentials', exp, clientId: 'c', sub: 'c' } },
  ];
  await store.appendToStream('user-1', 0, [{ type: 'UserCreated', data: { sub: '1' } }]);
  await store.appendToStream('access-token-old1', 0, issued(1_000_000_000));
  await store.appendToStream('user-2', 0, [{ type: 'UserCreated', data: { sub: '2' } }]);
  await store.appendToStream('access-token-old2', 0, issued(1_000_000_000));
  await store.appendToStream('user-3', 0, [{ type: 'UserCreated', data: { sub: '3' } }]);
  await store.appendToStream('user-4', 0, [{ type: 'UserCreated', data: { sub: '4' } }]);
  const dir = await mkdtemp(join(tmpdir(), 'retention-attack-'));
  const env = {
    DATABASE_URL: db.url,
    RETENTION_ARCHIVE_DIR: dir,
    RETENTION_ACCESS_TOKEN_DAYS: '0',
    RETENTION_SIGNING_KEY: JSON.stringify(await ed25519()),
  };
  const run = await cli(['retention', 'run', '--json'], env);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ archives: [{ events: 2 }] });
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  return {
    db,
    sql,
    dir,
    env,
    store,
    close: async () => {
      await sql.end();
      await ds.destroy();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const verify = async (s: Setup, ...args: string[]) => {
  const r = await cli(['audit', 'verify', '--json', ...args], s.env);
  return { code: r.code, report: JSON.parse(r.stdout || '{}') as Record<string, unknown>, stderr: r.stderr };
};

describe('retention: a deletion cannot hide behind the archive path', () => {
  const setups: Setup[] = [];
  afterAll(async () => {
    for (const s of setups) await s.close();
  });
  const setup = async () => {
    const s = await archivedLog();
    setups.push(s);
    return s;
  };

  it('RET-A01 a manifest forged under another key, "archiving" an event the attacker deleted, is refused and the deletion reported', async () => {
    const s = await setup();
    expect((await verify(s)).code).toBe(0);
    const [victim] = (await s.store.readStream('user-2')) as { globalPosition: number }[];
    const victimEvent = (await s.store.readAll(victim!.globalPosition - 1, 1))[0]!;
    await s.sql.query('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await s.sql.query('DELETE FROM events WHERE stream_id = $1', ['user-2']);
    await s.sql.query('ALTER TABLE events ENABLE TRIGGER events_no_update_delete');
    const file = encodeArchive([victimEvent]);
    const forged = await signManifest(
      buildManifest('forged', new Date(), [victimEvent], file),
      await ed25519(),
    );
    await writeFile(join(s.dir, archiveFileName('forged')), file);
    await writeFile(join(s.dir, manifestFileName('forged')), JSON.stringify(forged));

    const live = await verify(s);
    expect(live.code).toBe(1);
    expect(live.report).toMatchObject({ intact: false, break: { kind: 'removed' } });
    expect(String((live.report.archive_problem as { message: string }).message)).toContain('signature');
    const restore = await cli(['retention', 'restore', 'user-2'], s.env);
    expect(restore.code).toBe(1);
    expect((await s.store.readStream('user-2')).length).toBe(0);
  });

  it("RET-A02 the database's own archive record opens the DELETE path, but what it deleted is still reported removed", async () => {
    const s = await setup();
    const [row] = (await s.sql.query(`SELECT global_position, hash FROM events WHERE stream_id = 'user-3'`))
      .rows as { global_position: string; hash: Buffer }[];
    await s.sql.query('BEGIN');
    await s.sql.query(
      `INSERT INTO event_archives (archive_id, created_at, file_name, sha256, event_count,
      first_position, last_position, completed_at) VALUES ('planted', now(), 'x', 'x', 1, $1, $1, now())`,
      [row!.global_position],
    );
    await s.sql.query(`INSERT INTO event_archive_events VALUES ('planted', $1, $2)`, [
      row!.global_position,
      row!.hash,
    ]);
    await s.sql.query(`SELECT set_config('retention.archive_id', 'planted', true)`);
    await s.sql.query(`DELETE FROM events WHERE stream_id = 'user-3'`);
    await s.sql.query('COMMIT');

    const report = await verify(s);
    expect(report.code).toBe(1);
    expect(report.report).toMatchObject({
      intact: false,
      archive_problem: null,
      break: { kind: 'removed', position: Number(row!.global_position) + 1 },
    });
  });

  it('RET-A03 an archive file rewritten with its checksum and readable manifest updated is refused', async () => {
    const s = await setup();
    const [manifestName] = (await readdir(s.dir)).filter((n) => n.endsWith('.manifest.json'));
    const id = manifestName!.replace('.manifest.json', '');
    const signed = JSON.parse(await readFile(join(s.dir, manifestName!), 'utf8')) as {
      manifest: { sha256: string; events: { position: number; prevHash: string; hash: string }[] };
    };
    // The attacker rewrites an archived event and recomputes its hash and the file's checksum.
    const { decodeArchive, sha256Hex } = await import('#lib/event-store');
    const events = decodeArchive(await readFile(join(s.dir, archiveFileName(id))));
    const changed = { ...events[0]!, data: { ...(events[0]!.data as object), clientId: 'attacker' } };
    changed.hash = eventHash(changed.prevHash!, changed);
    const file = encodeArchive([changed, ...events.slice(1)]);
    await writeFile(join(s.dir, archiveFileName(id)), file);
    signed.manifest.sha256 = sha256Hex(file);
    signed.manifest.events[0]!.hash = changed.hash;
    await writeFile(join(s.dir, manifestName!), JSON.stringify(signed));

    const report = await verify(s, '--archives', s.dir);
    expect(report.code).toBe(1);
    expect(String((report.report.archive_problem as { message: string }).message)).toContain(
      'differs from the signed one',
    );
    expect((await verify(s)).code).toBe(1);
  });

  it('RET-A04 a legitimate manifest does not cover a deletion elsewhere in the log', async () => {
    const s = await setup();
    const position = async (stream: string) =>
      Number(
        (
          (await s.sql.query(`SELECT global_position FROM events WHERE stream_id = $1`, [stream]))
            .rows[0] as {
            global_position: string;
          }
        ).global_position,
      );
    // user-1 is followed by an archived token, then user-2: the removal is named at user-2.
    const next = await position('user-2');
    await s.sql.query('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await s.sql.query(`DELETE FROM events WHERE stream_id = 'user-1'`);
    await s.sql.query('ALTER TABLE events ENABLE TRIGGER events_no_update_delete');
    const report = await verify(s, '--archives', s.dir);
    expect(report.code).toBe(1);
    expect(report.report).toMatchObject({
      archive_problem: null,
      break: { kind: 'removed', position: next },
    });
  });
});
