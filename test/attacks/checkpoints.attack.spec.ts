import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { type DataSource } from 'typeorm';
import { createEventStoreDataSource, generateCheckpointKey, PgEventStore } from '#lib/event-store';
import { createTestDatabase, recomputeChain, runMigrations, type TestDatabase } from '#lib/testing';
import { type NpmStart, startNpmStart } from '../support/npm-start.js';

/**
 * Issue 24: a database administrator who can rewrite `events` can also recompute every hash of the
 * chain, so `audit verify` alone cannot catch them. Signed checkpoints of the chain head, kept
 * outside Postgres, must: each attack below rewrites the table (or the checkpoint directory) as
 * such an administrator would, and `audit verify --checkpoints` must fail and say where.
 */

const CLI = resolve(process.cwd(), 'dist/apps/cli/src/main.js');

/** What `audit verify --checkpoints --json` prints. */
interface VerifyDocument {
  intact: boolean;
  checkpoints: {
    ok: boolean;
    checked: number;
    first_rewritten_position: number | null;
    first_rewritten_event_id: string | null;
    last_good_position: number | null;
    problems: { file: string | null; kind: string; message: string }[];
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('signed checkpoints of the hash chain (issue 24)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let sql: pg.Client;
  let store: PgEventStore;
  let work: string;
  let privateJwk: string;
  let env: Record<string, string>;

  const cli = (args: string[], extra: Record<string, string> = {}): Promise<Run> =>
    new Promise((done) =>
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...process.env, ...env, ...extra }, timeout: 30000 },
        (err, stdout, stderr) =>
          done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      ),
    );

  const append = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await store.appendToStream(`token-${randomUUID()}`, 0, [
        { type: 'AccessTokenIssued', data: { i, scope: 'read' } },
      ]);
    }
  };

  const positions = async (): Promise<{ position: number; eventId: string }[]> =>
    (await sql.query('SELECT global_position, event_id FROM events ORDER BY global_position')).rows.map(
      (r) => ({ position: Number(r.global_position), eventId: String(r.event_id) }),
    );

  const recompute = () => recomputeChain(sql);

  /** A fresh log of `n` events and an empty checkpoint directory. */
  const freshLog = async (n: number): Promise<string> => {
    await sql.query('TRUNCATE events');
    await append(n);
    return mkdtempSync(join(work, 'ckpt-'));
  };

  const verify = async (dir: string) => {
    const run = await cli(['audit', 'verify', '--checkpoints', dir, '--json']);
    return { ...run, doc: JSON.parse(run.stdout || '{}') as VerifyDocument };
  };

  beforeAll(async () => {
    db = await createTestDatabase('checkpoints_attack');
    await runMigrations(db.url);
    ds = createEventStoreDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    store = new PgEventStore(ds);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    await sql.query('ALTER TABLE events DISABLE TRIGGER events_no_update_delete');
    await sql.query('ALTER TABLE events DISABLE TRIGGER events_no_truncate');
    work = mkdtempSync(join(tmpdir(), 'checkpoints-attack-'));
    env = { DATABASE_URL: db.url, NODE_ENV: 'test' };
    const keygen = await cli(['audit', 'checkpoint-keygen', '--public-out', join(work, 'public.jwk')]);
    expect(keygen.code).toBe(0);
    privateJwk = keygen.stdout.trim();
    env.AUDIT_CHECKPOINT_SIGNING_KEY = privateJwk;
  });

  afterAll(async () => {
    await sql?.end();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('CKPT-01 an event rewritten and the whole chain recomputed: verify alone passes, --checkpoints names the first rewritten position', async () => {
    const dir = await freshLog(6);
    expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
    await append(2);
    expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
    const all = await positions();
    const target = all[3]!;
    await sql.query(
      `UPDATE events SET data = jsonb_set(data, '{scope}', '"admin"') WHERE global_position = $1`,
      [target.position],
    );
    await recompute();

    const plain = await cli(['audit', 'verify']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('chain intact');

    const { code, doc } = await verify(dir);
    expect(code).toBe(1);
    expect(doc.intact).toBe(true);
    expect(doc.checkpoints).toMatchObject({
      ok: false,
      first_rewritten_position: target.position,
      first_rewritten_event_id: target.eventId,
    });
    const text = await cli(['audit', 'verify', '--checkpoints', dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`first rewritten event: position ${target.position} (${target.eventId})`);
  });

  it('CKPT-02 events deleted and the chain recomputed: --checkpoints fails and says after which position', async () => {
    const dir = await freshLog(6);
    expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
    const all = await positions();
    await sql.query('DELETE FROM events WHERE global_position = $1', [all[2]!.position]);
    await recompute();
    expect((await cli(['audit', 'verify'])).code).toBe(0);

    const { code, doc, stdout } = await verify(dir);
    expect(code).toBe(1);
    expect(doc.checkpoints.ok).toBe(false);
    expect(doc.checkpoints.first_rewritten_position).toBe(all[3]!.position);
    expect(doc.checkpoints.last_good_position).toBe(all[1]!.position);
    expect(JSON.stringify(doc.checkpoints.problems)).toContain('1 event(s) fewer');
    expect(stdout).toBeDefined();
  });

  it('CKPT-03 a checkpoint forged with another key for the recomputed chain is refused, naming the file', async () => {
    const dir = await freshLog(4);
    expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
    const [real] = readdirSync(dir);
    const all = await positions();
    await sql.query(`UPDATE events SET data = '{"i":99}' WHERE global_position = $1`, [all[1]!.position]);
    await recompute();
    // The attacker signs a checkpoint of the recomputed head with a key of their own, in place of the real one.
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const head = (
      await sql.query(`SELECT encode(hash, 'hex') AS hash FROM events ORDER BY global_position DESC LIMIT 1`)
    ).rows[0].hash as string;
    const payload = JSON.parse(
      Buffer.from(readFileSync(join(dir, real!), 'utf8').split('.')[1]!, 'base64url').toString(),
    );
    const forged = await new CompactSign(
      new TextEncoder().encode(JSON.stringify({ ...payload, hash: head, count: 0, fingerprints: [] })),
    )
      .setProtectedHeader({ alg: 'EdDSA', kid: (await exportJWK(publicKey)).x! })
      .sign(privateKey);
    writeFileSync(join(dir, real!), forged);

    const { code, doc } = await verify(dir);
    expect(code).toBe(1);
    expect(doc.checkpoints.ok).toBe(false);
    expect(doc.checkpoints.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ file: real, kind: 'signature' })]),
    );
  });

  it('CKPT-04 a checkpoint file edited (the recomputed head hash put in, the signature kept) is refused, naming the file', async () => {
    const dir = await freshLog(4);
    expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
    const [real] = readdirSync(dir);
    const all = await positions();
    await sql.query(`UPDATE events SET data = '{"i":98}' WHERE global_position = $1`, [all[0]!.position]);
    await recompute();
    const head = (
      await sql.query(`SELECT encode(hash, 'hex') AS hash FROM events ORDER BY global_position DESC LIMIT 1`)
    ).rows[0].hash as string;
    const [h, p, s] = readFileSync(join(dir, real!), 'utf8').trim().split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const edited = Buffer.from(JSON.stringify({ ...payload, hash: head })).toString('base64url');
    writeFileSync(join(dir, real!), `${h}.${edited}.${s}`);

    const { code, doc } = await verify(dir);
    expect(code).toBe(1);
    expect(doc.checkpoints.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ file: real, kind: 'signature' })]),
    );
  });

  it('CKPT-05 a checkpoint file missing in the middle of the directory is reported', async () => {
    const dir = await freshLog(2);
    for (let i = 0; i < 3; i++) {
      expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
      await append(2);
    }
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(3);
    unlinkSync(join(dir, files[1]!));

    const { code, doc } = await verify(dir);
    expect(code).toBe(1);
    expect(doc.checkpoints.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ file: files[2], kind: 'missing' })]),
    );
    expect(doc.checkpoints.checked).toBe(2);
  });

  it('CKPT-06 the checkpointer refuses to sign a chain recomputed since its last checkpoint', async () => {
    const dir = await freshLog(3);
    expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
    const all = await positions();
    await sql.query(`UPDATE events SET data = '{"i":97}' WHERE global_position = $1`, [all[1]!.position]);
    await recompute();
    await append(1);
    const run = await cli(['audit', 'checkpoint', '--dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('does not continue from the last checkpoint');
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('CKPT-07 checkpoints verified against a key given by file; a file of another key names that file', async () => {
    const dir = await freshLog(3);
    expect((await cli(['audit', 'checkpoint', '--dir', dir])).code).toBe(0);
    const ok = await cli(
      ['audit', 'verify', '--checkpoints', dir, '--checkpoint-key', join(work, 'public.jwk')],
      {
        AUDIT_CHECKPOINT_SIGNING_KEY: '',
      },
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('checkpoints: 1 checked, 1 ok');
    const other = await cli(['audit', 'checkpoint-keygen']);
    const [file] = readdirSync(dir);
    const wrong = await cli(['audit', 'verify', '--checkpoints', dir], {
      AUDIT_CHECKPOINT_SIGNING_KEY: other.stdout.trim(),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(file!);
  });
});

/**
 * The checkpointer as `npm start` runs it: introspection, on the authenticated bus with its own
 * NATS user, writes signed checkpoints to AUDIT_CHECKPOINT_DIR and publishes them on JetStream.
 */
describe('the introspection checkpointer as npm start runs it (issue 24)', () => {
  let work: string;
  let database: TestDatabase;
  let start: NpmStart;
  let natsUrl: string;
  let publicJwk: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'checkpoints-start-'));
    database = await createTestDatabase('ckptstart');
    const key = await generateCheckpointKey();
    publicJwk = join(work, 'public.jwk');
    writeFileSync(publicJwk, JSON.stringify(key.publicJwk));
    start = await startNpmStart(work, database.url, `ckptstart-${process.pid}`, {
      AUDIT_CHECKPOINT_SIGNING_KEY: JSON.stringify(key.privateJwk),
      AUDIT_CHECKPOINT_DIR: join(work, 'checkpoints'),
      AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
    });
    natsUrl = start.natsUrl;
  }, 180000);

  afterAll(async () => {
    await start?.stop();
    await database?.drop().catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 30000);

  it('CKPT-09 signs the head to the directory and to its JetStream stream; audit verify --checkpoints holds', async () => {
    const dir = join(work, 'checkpoints');
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    let position = 0;
    let last: string | undefined;
    try {
      const deadline = Date.now() + 30000;
      for (;;) {
        const { rows } = await sql.query('SELECT max(global_position)::text AS head FROM events');
        position = Number(rows[0].head);
        last = existsSync(dir) ? readdirSync(dir).sort().at(-1) : undefined;
        if (position > 0 && last === `${String(position).padStart(20, '0')}.jws`) break;
        if (Date.now() > deadline)
          throw new Error(`no checkpoint of ${position}:\n${start.output.join('').slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await sql.end();
    }
    const secrets = Object.fromEntries(
      readFileSync(join(work, '.data/secrets.env'), 'utf8')
        .split('\n')
        .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    const nc = await connect({
      servers: natsUrl,
      user: 'introspection',
      pass: secrets.NATS_PASSWORD_INTROSPECTION,
      inboxPrefix: '_INBOX.introspection',
      maxReconnectAttempts: 0,
      timeout: 3000,
    });
    try {
      const message = await (
        await jetstreamManager(nc)
      ).streams.getMessage('AUTHZ_EVENTS_CHECKPOINTS', {
        last_by_subj: `ckptstart-${process.pid}.audit.checkpoint`,
      });
      const payload = JSON.parse(Buffer.from(message!.string().split('.')[1]!, 'base64url').toString());
      expect(payload.position).toBeGreaterThanOrEqual(position);
    } finally {
      await nc.close();
    }
    const verify = await new Promise<Run>((done) =>
      execFile(
        process.execPath,
        [CLI, 'audit', 'verify', '--checkpoints', dir, '--checkpoint-key', publicJwk],
        { env: { ...process.env, DATABASE_URL: database.url }, timeout: 30000 },
        (err, stdout, stderr) => done({ code: err ? Number(err.code) : 0, stdout, stderr }),
      ),
    );
    expect(verify.stdout).toMatch(/checkpoints: \d+ checked, \d+ ok/);
    expect(verify.code).toBe(0);
    expect(start.output.join('')).not.toMatch(/checkpoint.*(failed|not written|not ready)/);
  });
});
