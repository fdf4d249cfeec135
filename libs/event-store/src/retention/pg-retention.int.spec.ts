import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { type DataSource } from 'typeorm';
import { tokenStateProjection } from '#lib/domain-token';
import { createTestDatabase, runMigrations, type TestDatabase } from '#lib/testing';
import { PgAuditLog } from '../audit-log.js';
import { createEventStoreDataSource } from '../data-source.js';
import { verifyStoredChain } from '../hash-chain.js';
import { PgEventStore } from '../pg-event-store.js';
import { ProjectionRunner } from '../projection-runner.js';
import { rebuildAndCompare } from '../projection-rebuild.js';
import {
  archiveFileName,
  decodeArchive,
  type SignedManifestFile,
  manifestFileName,
} from './archive-format.js';
import { readManifests, readVerifiedArchive } from './archive-files.js';
import { verifyChainWithArchives } from './archived-chain.js';
import { archiveClosedStreams, RETENTION_STREAM, type RetentionOptions } from './pg-retention.js';
import { restoreStream } from './pg-restore.js';
import { RETENTION_CANDIDATES } from './candidate-scan.js';
import { DEFAULT_RETENTION_POLICY } from './policy.js';

const DAY = 86_400_000;

async function ed25519(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return exportJWK(privateKey);
}

interface World {
  db: TestDatabase;
  ds: DataSource;
  store: PgEventStore;
  dir: string;
  key: JWK;
  options: RetentionOptions;
  closed: string[];
  open: string[];
}

const worlds: World[] = [];

/** A database of its own with closed and open streams interleaved, then a user event at the head. */
async function world(): Promise<World> {
  const db = await createTestDatabase('retention');
  await runMigrations(db.url);
  const ds = createEventStoreDataSource(db.url, { poolSize: 4, applicationName: 'retention-int' });
  await ds.initialize();
  const store = new PgEventStore(ds);
  const dir = await mkdtemp(join(tmpdir(), 'retention-'));
  const key = await ed25519();
  const now = Date.now();
  const nowS = Math.floor(now / 1000);
  const iso = (ms: number) => new Date(ms).toISOString();
  const closed: string[] = [];
  const open: string[] = [];
  for (let i = 0; i < 3; i++) {
    const cc = `access-token-${randomUUID()}`;
    await store.appendToStream(cc, 0, [
      {
        type: 'AccessTokenIssued',
        data: {
          jti: cc.slice(13),
          clientId: 'c1',
          sub: 'c1',
          aud: ['api'],
          scope: ['read'],
          grantType: 'client_credentials',
          iat: nowS,
          exp: nowS + 600,
          kid: 'k',
        },
      },
    ]);
    closed.push(cc);
    const live = `access-token-${randomUUID()}`;
    await store.appendToStream(live, 0, [
      {
        type: 'AccessTokenIssued',
        data: {
          jti: live.slice(13),
          clientId: 'c1',
          sub: 'c1',
          aud: ['api'],
          scope: ['read'],
          grantType: 'client_credentials',
          iat: nowS,
          exp: nowS + 400 * 86_400,
          kid: 'k',
        },
      },
    ]);
    open.push(live);
  }
  const revoked = `grant-${randomUUID()}`;
  await store.appendToStream(revoked, 0, [
    {
      type: 'AuthorizationCodeIssued',
      data: { grantId: revoked.slice(6), clientId: 'c2', sub: 'u1', expiresAt: iso(now + 60_000) },
    },
    {
      type: 'GrantRevoked',
      data: { grantId: revoked.slice(6), reason: 'revocation_request', revokedBy: 'c2', at: iso(now) },
    },
  ]);
  closed.push(revoked);
  const liveGrant = `grant-${randomUUID()}`;
  await store.appendToStream(liveGrant, 0, [
    {
      type: 'RefreshTokenIssued',
      data: {
        grantId: liveGrant.slice(6),
        expiresAt: iso(now + 30 * DAY),
        familyExpiresAt: iso(now + 400 * DAY),
      },
    },
  ]);
  open.push(liveGrant);
  const ended = `session-${randomUUID()}`;
  await store.appendToStream(ended, 0, [
    { type: 'SessionStarted', data: { sid: ended.slice(8), sub: 'u1', expiresAt: iso(now + DAY) } },
    { type: 'SessionEnded', data: { sid: ended.slice(8), sub: 'u1', endedAt: iso(now + 1000) } },
  ]);
  closed.push(ended);
  const user = `user-${randomUUID()}`;
  await store.appendToStream(user, 0, [{ type: 'UserRegistered', data: { sub: 'u1' } }]);
  open.push(user);
  const options: RetentionOptions = {
    archiveDir: dir,
    signingKey: key,
    policy: DEFAULT_RETENTION_POLICY,
    clock: () => now + 100 * DAY,
  };
  const w = { db, ds, store, dir, key, options, closed, open };
  worlds.push(w);
  return w;
}

afterAll(async () => {
  for (const w of worlds) {
    if (w.ds.isInitialized) await w.ds.destroy();
    await w.db.drop();
    await rm(w.dir, { recursive: true, force: true });
  }
});

const streamEvents = async (w: World, id: string) => (await w.store.readStream(id)).length;

describe('retention by archiving on Postgres (docs/retention.md)', () => {
  it('RET-01 archives closed streams to a signed, checksummed archive, deletes them, keeps open streams, and the chain verifies across the gap', async () => {
    const w = await world();
    const before = await verifyStoredChain(w.store);
    expect(before.break).toBeNull();

    const report = await archiveClosedStreams(w.ds, w.store, w.options);

    expect(report.archives).toHaveLength(1);
    const [run] = report.archives;
    expect(run!.streams).toBe(w.closed.length);
    expect(run!.events).toBe(7);
    expect(new Set(report.streams)).toEqual(new Set(w.closed));
    const manifests = await readManifests(w.dir, [w.key]);
    expect(manifests.map((m) => m.archiveId)).toEqual([run!.archiveId]);
    const archived = await readVerifiedArchive(w.dir, manifests[0]!);
    expect(archived.map((e) => e.streamId).sort()).toEqual(
      w.closed.flatMap((id) => (id.startsWith('access') ? [id] : [id, id])).sort(),
    );
    for (const id of w.closed) expect(await streamEvents(w, id)).toBe(0);
    for (const id of w.open) expect(await streamEvents(w, id)).toBeGreaterThan(0);

    const recorded = await w.store.readStream(RETENTION_STREAM);
    expect(recorded.map((e) => e.type)).toEqual(['StreamsArchived']);
    expect(recorded[0]!.data).toMatchObject({ archiveId: run!.archiveId, events: 7, sha256: run!.sha256 });

    const withArchives = await verifyChainWithArchives(w.store, w.dir, [w.key], true);
    expect(withArchives.archiveProblem).toBeNull();
    expect(withArchives.chain.break).toBeNull();
    expect(withArchives.chain.archived).toBe(7);

    const alone = await verifyStoredChain(w.store);
    expect(alone.break?.kind).toBe('removed');
  });

  it('RET-02 a dry run lists the closed streams and changes nothing', async () => {
    const w = await world();
    const report = await archiveClosedStreams(w.ds, w.store, { ...w.options, dryRun: true });
    expect(new Set(report.streams)).toEqual(new Set(w.closed));
    expect(report.archives).toEqual([]);
    for (const id of w.closed) expect(await streamEvents(w, id)).toBeGreaterThan(0);
    expect((await readManifests(w.dir, [w.key])).length).toBe(0);
  });

  it('RET-03 an archived event edited in the file fails --archives verification, naming the archive and the position', async () => {
    const w = await world();
    const { archives } = await archiveClosedStreams(w.ds, w.store, w.options);
    const archiveId = archives[0]!.archiveId;
    const path = join(w.dir, archiveFileName(archiveId));
    const events = decodeArchive(await readFile(path));
    const victim = events[2]!;
    const lines = events.map((e) =>
      JSON.stringify({
        global_position: String(e.globalPosition),
        event_id: e.eventId,
        stream_id: e.streamId,
        stream_version: e.streamVersion,
        type: e.type,
        schema_version: e.schemaVersion,
        data: e === victim ? { ...(e.data as object), sub: 'someone-else' } : e.data,
        metadata: e.metadata,
        recorded_at: e.recordedAt.toISOString(),
        prev_hash: e.prevHash,
        hash: e.hash,
      }),
    );
    await writeFile(path, gzipSync(Buffer.from(lines.join('\n') + '\n')));

    const report = await verifyChainWithArchives(w.store, w.dir, [w.key], true);
    expect(report.archiveProblem).toMatchObject({ archiveId, position: victim.globalPosition });
    expect(report.archiveProblem!.message).toContain(`position ${victim.globalPosition} was altered`);
    // The live chain alone still holds: the manifests' links are signed.
    expect(report.chain.break).toBeNull();
  });

  it('RET-04 an ordinary DELETE, UPDATE or TRUNCATE is still refused; a DELETE naming an archive passes only for the rows it lists', async () => {
    const w = await world();
    const refused = /append-only/;
    await expect(w.ds.query(`DELETE FROM events WHERE stream_id = $1`, [w.open[0]])).rejects.toThrow(refused);
    await expect(
      w.ds.query(`UPDATE events SET type = 'X' WHERE stream_id = $1`, [w.open[0]]),
    ).rejects.toThrow(refused);
    await expect(w.ds.query(`TRUNCATE events`)).rejects.toThrow(refused);
    const { archives } = await archiveClosedStreams(w.ds, w.store, w.options);
    const bypass = async (archiveId: string, streamId: string) => {
      const qr = w.ds.createQueryRunner();
      await qr.startTransaction();
      try {
        await qr.query(`SELECT set_config('retention.archive_id', $1, true)`, [archiveId]);
        await qr.query(`DELETE FROM events WHERE stream_id = $1`, [streamId]);
      } finally {
        await qr.rollbackTransaction();
        await qr.release();
      }
    };
    await expect(bypass(archives[0]!.archiveId, w.open[0]!)).rejects.toThrow(refused);
    await expect(bypass('no-such-archive', w.open[0]!)).rejects.toThrow(refused);
    for (const id of w.open) expect(await streamEvents(w, id)).toBeGreaterThan(0);
  });

  it('RET-05 a run interrupted after its archive is written deletes nothing; the next run verifies the archive and finishes', async () => {
    const w = await world();
    await expect(
      archiveClosedStreams(w.ds, w.store, {
        ...w.options,
        afterArchiveWritten: () => Promise.reject(new Error('killed')),
      }),
    ).rejects.toThrow('killed');
    for (const id of w.closed) expect(await streamEvents(w, id)).toBeGreaterThan(0);

    const report = await archiveClosedStreams(w.ds, w.store, { ...w.options, deleteBatchSize: 2 });
    expect(report.archives.map((a) => a.resumed)).toEqual([true]);
    for (const id of w.closed) expect(await streamEvents(w, id)).toBe(0);
    expect((await w.store.readStream(RETENTION_STREAM)).map((e) => e.type)).toEqual(['StreamsArchived']);
    expect((await verifyChainWithArchives(w.store, w.dir, [w.key], true)).chain.break).toBeNull();
  });

  it('RET-12 a run interrupted in the middle of its deletes is finished by the next run, recorded once', async () => {
    const w = await world();
    await expect(
      archiveClosedStreams(w.ds, w.store, {
        ...w.options,
        afterArchiveWritten: async (archiveId) => {
          const qr = w.ds.createQueryRunner();
          await qr.startTransaction();
          await qr.query(`SELECT set_config('retention.archive_id', $1, true)`, [archiveId]);
          await qr.query(`DELETE FROM events WHERE stream_id = $1`, [w.closed[0]]);
          await qr.commitTransaction();
          await qr.release();
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    expect(await streamEvents(w, w.closed[0]!)).toBe(0);
    expect(await streamEvents(w, w.closed[1]!)).toBe(1);
    const report = await archiveClosedStreams(w.ds, w.store, w.options);
    expect(report.archives.map((a) => [a.resumed, a.events])).toEqual([[true, 7]]);
    for (const id of w.closed) expect(await streamEvents(w, id)).toBe(0);
    expect((await w.store.readStream(RETENTION_STREAM)).length).toBe(1);
    expect((await archiveClosedStreams(w.ds, w.store, w.options)).archives).toEqual([]);
  });

  it('RET-13 a second run while one holds the retention lock is refused and changes nothing', async () => {
    const w = await world();
    let second: Promise<unknown> = Promise.resolve();
    await archiveClosedStreams(w.ds, w.store, {
      ...w.options,
      afterArchiveWritten: async () => {
        second = archiveClosedStreams(w.ds, w.store, w.options).catch((err: Error) => err.message);
        await second;
      },
    });
    expect(await second).toBe('another retention run or restore is in progress');
    expect((await w.store.readStream(RETENTION_STREAM)).length).toBe(1);
  });

  it('RET-14 an unfinished archive whose database listing names a position its manifest does not is not finished', async () => {
    const w = await world();
    let archiveId = '';
    await expect(
      archiveClosedStreams(w.ds, w.store, {
        ...w.options,
        afterArchiveWritten: (id) => {
          archiveId = id;
          return Promise.reject(new Error('killed'));
        },
      }),
    ).rejects.toThrow('killed');
    const [open] = (await w.ds.query(`SELECT global_position, hash FROM events WHERE stream_id = $1`, [
      w.open[0],
    ])) as { global_position: string; hash: Buffer }[];
    await w.ds.query(
      `DELETE FROM event_archive_events WHERE archive_id = $1 AND global_position = (
      SELECT min(global_position) FROM event_archive_events WHERE archive_id = $1)`,
      [archiveId],
    );
    await w.ds.query(`INSERT INTO event_archive_events VALUES ($1, $2, $3)`, [
      archiveId,
      open!.global_position,
      open!.hash,
    ]);
    await expect(archiveClosedStreams(w.ds, w.store, w.options)).rejects.toThrow(
      'does not match the manifest',
    );
    expect(await streamEvents(w, w.open[0]!)).toBe(1);
    for (const id of w.closed) expect(await streamEvents(w, id)).toBeGreaterThan(0);
  });

  it('RET-15 candidates are found through the partial index of first events, not by scanning the log', async () => {
    const w = await world();
    await w.ds.query('ANALYZE events');
    const qr = w.ds.createQueryRunner();
    await qr.startTransaction();
    // A table this small is read whole by any plan: the question is whether the index serves the query.
    await qr.query('SET LOCAL enable_seqscan = off');
    const plan = (await qr.query(`EXPLAIN ${RETENTION_CANDIDATES}`, [
      0,
      1_000_000,
      ['access-token-%'],
      500,
    ])) as {
      'QUERY PLAN': string;
    }[];
    await qr.rollbackTransaction();
    await qr.release();
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain('events_stream_start_idx');
  });

  it('RET-06 an unfinished archive whose file was altered is not finished: nothing is deleted', async () => {
    const w = await world();
    let archiveId = '';
    await expect(
      archiveClosedStreams(w.ds, w.store, {
        ...w.options,
        afterArchiveWritten: (id) => {
          archiveId = id;
          return Promise.reject(new Error('killed'));
        },
      }),
    ).rejects.toThrow('killed');
    const path = join(w.dir, archiveFileName(archiveId));
    await writeFile(path, gzipSync(Buffer.from('{}\n')));
    await expect(archiveClosedStreams(w.ds, w.store, w.options)).rejects.toThrow(archiveId);
    for (const id of w.closed) expect(await streamEvents(w, id)).toBeGreaterThan(0);
  });

  it('RET-07 a manifest signed by another key is refused, and then bridges no gap', async () => {
    const w = await world();
    await archiveClosedStreams(w.ds, w.store, w.options);
    const other = await ed25519();
    await expect(readManifests(w.dir, [other])).rejects.toThrow('signature');
    const report = await verifyChainWithArchives(w.store, w.dir, [other], false);
    expect(report.archiveProblem?.message).toContain('signature');
    expect(report.chain.break?.kind).toBe('removed');
  });

  it('RET-08 restoring every archived stream brings their history back at their positions; the chain verifies with no manifest', async () => {
    const w = await world();
    const before = await Promise.all(w.closed.map((id) => w.store.readStream(id)));
    await archiveClosedStreams(w.ds, w.store, w.options);
    for (const id of w.closed) {
      const restored = await restoreStream(w.ds, w.store, id, { archiveDir: w.dir, verifyKeys: [w.key] });
      expect(restored.events).toBe(before[w.closed.indexOf(id)]!.length);
    }
    const after = await Promise.all(w.closed.map((id) => w.store.readStream(id)));
    expect(after).toEqual(before);
    const audit = await new PgAuditLog(w.ds).query({ streamIds: w.closed, limit: 50 });
    expect(audit.events.map((e) => e.eventId).sort()).toEqual(
      before
        .flat()
        .map((e) => e.eventId)
        .sort(),
    );
    expect((await verifyStoredChain(w.store)).break).toBeNull();
    const types = (await w.store.readStream(RETENTION_STREAM)).map((e) => e.type);
    expect(types).toEqual(['StreamsArchived', ...w.closed.map(() => 'StreamRestored')]);
    await expect(
      restoreStream(w.ds, w.store, w.closed[0]!, { archiveDir: w.dir, verifyKeys: [w.key] }),
    ).rejects.toThrow('in the log');
  });

  it('RET-09 restoring one stream of an archive: the chain still verifies with the manifests for the rest', async () => {
    const w = await world();
    await archiveClosedStreams(w.ds, w.store, w.options);
    await restoreStream(w.ds, w.store, w.closed[1]!, { archiveDir: w.dir, verifyKeys: [w.key] });
    expect(await streamEvents(w, w.closed[1]!)).toBe(1);
    const report = await verifyChainWithArchives(w.store, w.dir, [w.key], true);
    expect(report.chain.break).toBeNull();
    expect(report.chain.archived).toBe(6);
  });

  it('RET-10 projections rebuilt after an archive run equal the live ones (token_state)', async () => {
    const w = await world();
    const clock = w.options.clock!;
    const live = new ProjectionRunner(w.ds, w.store, [tokenStateProjection], { clock });
    await live.catchUp();
    await archiveClosedStreams(w.ds, w.store, w.options);
    await live.catchUp();
    const report = await rebuildAndCompare(w.ds, w.store, tokenStateProjection, { clock });
    expect(report.equal).toBe(true);
    expect(report.liveRows).toBe(3);
  });

  it('RET-11 a manifest whose readable copy was edited (positions never archived) is refused', async () => {
    const w = await world();
    const { archives } = await archiveClosedStreams(w.ds, w.store, w.options);
    const path = join(w.dir, manifestFileName(archives[0]!.archiveId));
    const signed = JSON.parse(await readFile(path, 'utf8')) as SignedManifestFile;
    signed.manifest.events.push({ position: 999_999, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) });
    await writeFile(path, JSON.stringify(signed));
    await expect(readManifests(w.dir, [w.key])).rejects.toThrow('differs from the signed one');
  });

  it('RET-16 each run goes on where the last one stopped; the scan comes round to the start once it reaches the end', async () => {
    const w = await world();
    const capped = { ...w.options, candidatePage: 2, maxCandidates: 2 };
    const runs = [];
    for (let i = 0; i < 20; i++) {
      const report = await archiveClosedStreams(w.ds, w.store, capped);
      runs.push(report);
      if (report.scan.wrapped) break;
    }
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.scan.from).toBe(runs[i - 1]!.scan.to);
    // Ten candidate streams (six tokens, two grants, a session, a user), two a run: five runs see
    // each once, the sixth finds nothing further and comes round to the first two.
    expect(runs.map((r) => r.candidatesExamined)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(runs.map((r) => r.scan.wrapped)).toEqual([false, false, false, false, false, true]);
    expect(runs[0]!.scan.from).toBe(0);
    const whole = await archiveClosedStreams(w.ds, w.store, w.options);
    expect(whole.scan).toMatchObject({ wrapped: true, complete: true });
    for (const id of w.closed) expect(await streamEvents(w, id)).toBe(0);
    for (const id of w.open) expect(await streamEvents(w, id)).toBeGreaterThan(0);
    const [cursor] = (await w.ds.query(`SELECT after_position FROM retention_scan`)) as {
      after_position: string;
    }[];
    expect(Number(cursor!.after_position)).toBe(0);
  });

  it('RET-17 a stream that closes behind the cursor is archived when the scan comes round to it', async () => {
    const w = await world();
    const liveGrant = w.open.find((id) => id.startsWith('grant-'))!;
    const first = await archiveClosedStreams(w.ds, w.store, {
      ...w.options,
      candidatePage: 8,
      maxCandidates: 8,
    });
    expect(first.scan.complete).toBe(false);
    const grantStart = Number(
      (
        (await w.ds.query(`SELECT global_position FROM events WHERE stream_id = $1 AND stream_version = 1`, [
          liveGrant,
        ])) as { global_position: string }[]
      )[0]!.global_position,
    );
    expect(first.scan.to).toBeGreaterThanOrEqual(grantStart);
    await w.store.appendToStream(liveGrant, 1, [
      {
        type: 'GrantRevoked',
        data: {
          grantId: liveGrant.slice(6),
          reason: 'revocation_request',
          revokedBy: 'c2',
          at: new Date().toISOString(),
        },
      },
    ]);
    await w.store.appendToStream(`user-${randomUUID()}`, 0, [
      { type: 'UserRegistered', data: { sub: 'u2' } },
    ]);
    const second = await archiveClosedStreams(w.ds, w.store, w.options);
    expect(second.scan).toMatchObject({ from: first.scan.to, wrapped: true, complete: true });
    // The ended session lies ahead of the cursor; the grant, behind it, is reached after coming round.
    const session = w.closed.find((id) => id.startsWith('session-'))!;
    expect(second.streams).toEqual([session, liveGrant]);
    expect(await streamEvents(w, liveGrant)).toBe(0);
  });

  it('RET-18 a run rests after each page, archive written, archive checked and delete batch, to keep its duty cycle', async () => {
    const w = await world();
    let t = 0;
    const rests: number[] = [];
    const report = await archiveClosedStreams(w.ds, w.store, {
      ...w.options,
      deleteBatchSize: 2,
      dutyCycle: 0.5,
      timer: () => (t += 10),
      sleep: async (ms) => {
        rests.push(ms);
      },
    });
    expect(report.archives[0]!.events).toBe(7);
    // One page, one archive written, one checked, four batches of at most two and the empty last one.
    expect(rests.length).toBe(1 + 1 + 1 + 4 + 1);
    expect(new Set(rests)).toEqual(new Set([10]));
    expect(report.restedMs).toBe(80);
    const unpaced = await archiveClosedStreams(w.ds, w.store, {
      ...w.options,
      sleep: async (ms) => void rests.push(ms),
    });
    expect(unpaced.restedMs).toBe(0);
    expect(rests.length).toBe(8);
  });

  it('RET-19 without a cap a run writes as many archives as its scan finds, in one round', async () => {
    const w = await world();
    const report = await archiveClosedStreams(w.ds, w.store, {
      ...w.options,
      maxEventsPerArchive: 1,
      maxArchives: Infinity,
      maxCandidates: Infinity,
      candidatePage: 2,
    });
    // The ended session (two events) fills an archive on its own, over the limit of one.
    expect(report.archives).toHaveLength(w.closed.length);
    expect(report.streamCount).toBe(w.closed.length);
    expect(report.scan.complete).toBe(true);
    for (const id of w.closed) expect(await streamEvents(w, id)).toBe(0);
  });
});
