import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type DataSource } from 'typeorm';
import { createTestDatabase, natsServers, runMigrations, uniqueName, type TestDatabase } from '#lib/testing';
import { CheckpointAuditor } from './checkpoint-audit.js';
import {
  ChainCheckpointer,
  DirectoryCheckpointSink,
  JetStreamCheckpointSink,
  readCheckpointDirectory,
} from './checkpointer.js';
import {
  checkpointSigningKey,
  checkpointVerificationKey,
  generateCheckpointKey,
  type CheckpointSigningKey,
  type CheckpointVerificationKey,
} from './checkpoints.js';
import { createEventStoreDataSource } from './data-source.js';
import { verifyStoredChain } from './hash-chain.js';
import { PgEventStore } from './pg-event-store.js';

/** The checkpointer against a real Postgres, JetStream and directory (docs/events.md "Checkpoints"). */
describe('ChainCheckpointer (Postgres, JetStream, a directory)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: PgEventStore;
  let nc: NatsConnection;
  let dir: string;
  let key: CheckpointSigningKey;
  let verification: CheckpointVerificationKey;
  let jetStreamSink: JetStreamCheckpointSink;
  let dirSink: DirectoryCheckpointSink;
  const stream = uniqueName('CKPT').toUpperCase();
  let now = new Date('2026-12-07T10:00:00.000Z');
  const clock = () => now;

  const append = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await store.appendToStream(`token-${randomUUID()}`, 0, [{ type: 'AccessTokenIssued', data: { i } }]);
    }
  };
  const checkpointer = () =>
    new ChainCheckpointer(ds, store, { key, sinks: [dirSink, jetStreamSink], clock });

  beforeAll(async () => {
    db = await createTestDatabase('checkpointer');
    await runMigrations(db.url);
    ds = createEventStoreDataSource(db.url, { poolSize: 4 });
    await ds.initialize();
    store = new PgEventStore(ds);
    nc = await connect({ servers: natsServers() });
    dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
    const material = JSON.stringify((await generateCheckpointKey()).privateJwk);
    key = await checkpointSigningKey(material);
    verification = await checkpointVerificationKey(material);
    jetStreamSink = new JetStreamCheckpointSink(
      nc,
      stream,
      `${stream.toLowerCase()}.audit.checkpoint`,
      verification,
    );
    await jetStreamSink.ensureStream();
    dirSink = new DirectoryCheckpointSink(dir, verification);
  });

  afterAll(async () => {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc?.close();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CKPT-30 writes the head to the directory and JetStream, only when it moved, each naming the one before', async () => {
    await append(3);
    const head = await store.headPosition();
    const [first, ...more] = await checkpointer().checkpointNow();
    expect(more).toEqual([]);
    expect(first).toMatchObject({ position: head, count: 3, previous: null, at: '2026-12-07T10:00:00.000Z' });
    expect(await checkpointer().checkpointNow()).toEqual([]);
    await append(2);
    now = new Date('2026-12-07T10:01:00.000Z');
    const [second] = await checkpointer().checkpointNow();
    expect(second).toMatchObject({ count: 2, previous: { position: first!.position, hash: first!.hash } });
    expect(readdirSync(dir).sort()).toEqual([
      `${String(first!.position).padStart(20, '0')}.jws`,
      `${String(second!.position).padStart(20, '0')}.jws`,
    ]);
    expect(await jetStreamSink.last()).toMatchObject({ position: second!.position, hash: second!.hash });
    expect(await dirSink.last()).toMatchObject({ position: second!.position });
  });

  it('CKPT-31 continues from the latest of its destinations: a file lost from the directory is not a fork', async () => {
    const before = readdirSync(dir).sort();
    unlinkSync(join(dir, before.at(-1)!));
    await append(1);
    const [next] = await checkpointer().checkpointNow();
    const fromStream = await jetStreamSink.last();
    expect(next!.previous!.position).toBe(Number(before.at(-1)!.slice(0, 20)));
    expect(fromStream!.position).toBe(next!.position);
    const { accepted, files, rejected } = await readCheckpointDirectory(dir, verification);
    const auditor = new CheckpointAuditor(accepted, files, rejected);
    expect((await verifyStoredChain(store, 1000, auditor)).break).toBeNull();
    expect(auditor.result().problems).toEqual([
      expect.objectContaining({ kind: 'missing', file: `${String(next!.position).padStart(20, '0')}.jws` }),
    ]);
  });

  it('CKPT-33 a checkpoint stream missing (NATS was not ready at start, or it was removed) is made at the next pass', async () => {
    const other = new JetStreamCheckpointSink(
      nc,
      `${stream}_LATE`,
      `${stream.toLowerCase()}.late.checkpoint`,
      verification,
    );
    try {
      expect(await other.last()).toBeNull();
      await append(1);
      const [written] = await new ChainCheckpointer(ds, store, {
        key,
        sinks: [dirSink, other],
        clock,
      }).checkpointNow();
      expect((await other.last())!.position).toBe(written!.position);
    } finally {
      await (await jetstreamManager(nc)).streams.delete(`${stream}_LATE`).catch(() => undefined);
    }
  });

  it('CKPT-32 started on two replicas, one leads and writes at each interval', async () => {
    const a = checkpointer();
    const b = checkpointer();
    const filesBefore = readdirSync(dir).length;
    await append(2);
    const head = await store.headPosition();
    a.start(100);
    b.start(100);
    try {
      const deadline = Date.now() + 10_000;
      while ((await dirSink.last())!.position !== head && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(readdirSync(dir).length).toBe(filesBefore + 1);
      expect((await dirSink.last())!.count).toBe(2);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
