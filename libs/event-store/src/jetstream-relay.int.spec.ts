import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiscardPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type DataSource } from 'typeorm';
import {
  createTestDatabase,
  natsServers,
  runMigrations,
  startPrivateNatsServer,
  uniqueName,
  type TestDatabase,
} from '#lib/testing';
import { createEventStoreDataSource } from './data-source.js';
import { type EventStore, type RecordedEvent } from './event-store.js';
import { JetStreamRelay } from './jetstream-relay.js';
import {
  decodeRelayedEvent,
  eventSubject,
  EVENT_POSITION_HEADER,
  type PublishedForm,
} from './relayed-event.js';
import { PgEventStore } from './pg-event-store.js';

const childScript = fileURLToPath(new URL('./testing/relay-child.mjs', import.meta.url));
const builtLibrary = fileURLToPath(new URL('../../../dist/libs/event-store/src/index.js', import.meta.url));

let db: TestDatabase;
let dataSource: DataSource;
let store: PgEventStore;
let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
/** The relay's mechanics are what these tests check: every event is published whole. */
const publishedForm: PublishedForm = (event) => event;

/**
 * The child process runs dist/ (`npm test` builds first). Missing: fail. Older than a source file:
 * warn only, since an incremental tsc leaves dist alone when a file is touched but not changed.
 */
function checkBuild(): void {
  if (!existsSync(builtLibrary)) {
    throw new Error(
      `${builtLibrary} is missing: the relay child process runs the built library, run \`npm run build\``,
    );
  }
  const sourceDir = dirname(fileURLToPath(import.meta.url));
  const builtDir = dirname(builtLibrary);
  const newer = readdirSync(sourceDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .filter((f) => {
      const built = join(builtDir, f.replace(/\.ts$/, '.js'));
      return !existsSync(built) || statSync(built).mtimeMs < statSync(join(sourceDir, f)).mtimeMs;
    });
  if (newer.length > 0) {
    console.warn(`dist/ may be stale (${newer.join(', ')} changed since the build): run \`npm run build\``);
  }
}

beforeAll(async () => {
  checkBuild();
  db = await createTestDatabase('relay');
  await runMigrations(db.url);
  dataSource = createEventStoreDataSource(db.url, { poolSize: 6 });
  await dataSource.initialize();
  store = new PgEventStore(dataSource);
  nc = await connect({ servers: natsServers() });
  jsm = await jetstreamManager(nc);
}, 30_000);

afterAll(async () => {
  for (const name of streams) await jsm?.streams.delete(name).catch(() => undefined);
  await nc?.close();
  if (dataSource?.isInitialized) await dataSource.destroy();
  await db?.drop();
}, 30_000);

/** A fresh JetStream stream name and subject prefix, deleted in afterAll. */
function target() {
  const streamName = uniqueName('relay_test').toUpperCase();
  streams.push(streamName);
  return { streamName, subjectPrefix: `t${randomUUID().replaceAll('-', '')}` };
}

/** Appends `n` events over streams of three categories; resolves to the events in global order. */
async function appendEvents(n: number): Promise<RecordedEvent[]> {
  const head = await store.headPosition();
  const categories = ['client', 'grant', 'key'];
  const ids = Array.from({ length: 10 }, (_, i) => `${categories[i % 3]}-${randomUUID()}`);
  const versions = new Map<string, number>();
  for (let done = 0; done < n;) {
    const round = ids.slice(0, Math.min(ids.length, n - done));
    await Promise.all(
      round.map(async (id, i) => {
        const r = await store.appendToStream(id, versions.get(id) ?? 0, [
          { type: i % 2 ? 'ThingHappened' : 'OtherThingHappened', data: { done: done + i } },
        ]);
        versions.set(id, r.nextExpectedVersion);
      }),
    );
    done += round.length;
  }
  return store.readAll(head, 100_000);
}

async function messageCount(streamName: string): Promise<number> {
  return (await jsm.streams.info(streamName)).state.messages;
}

interface Relayed {
  subject: string;
  msgId: string | undefined;
  position: number;
  event: RecordedEvent;
}

async function relayedMessages(streamName: string): Promise<Relayed[]> {
  const info = await jsm.streams.info(streamName);
  const out: Relayed[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(streamName, { seq });
    if (!m) continue;
    out.push({
      subject: m.subject,
      msgId: m.header.get('Nats-Msg-Id'),
      position: Number(m.header.get(EVENT_POSITION_HEADER)),
      event: decodeRelayedEvent(m.data),
    });
  }
  return out;
}

function expectExactlyRelayed(relayed: Relayed[], events: RecordedEvent[], subjectPrefix: string) {
  expect(relayed).toHaveLength(events.length);
  expect(new Set(relayed.map((r) => r.msgId)).size).toBe(events.length);
  expect(relayed.map((r) => r.msgId)).toEqual(events.map((e) => e.eventId));
  expect(relayed.map((r) => r.position)).toEqual(events.map((e) => e.globalPosition));
  // The hash-chain link describes the stored row: it is never part of a message.
  expect(relayed.map((r) => r.event)).toEqual(
    events.map(({ prevHash: _p, hash: _h, ...published }) => published),
  );
  expect(relayed.map((r) => r.subject)).toEqual(events.map((e) => eventSubject(subjectPrefix, e)));
}

function runChild(env: Record<string, string>) {
  const child = spawn(process.execPath, [childScript], {
    env: { ...process.env, NATS_URL: natsServers(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitUntil(
  condition: () => Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // Connections killed on purpose come back on the next try.
    }
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('JetStreamRelay (events table as outbox, ARCHITECTURE.md)', () => {
  const { streamName, subjectPrefix } = target();
  let events: RecordedEvent[];

  it('relays 300 events exactly once, in global order, across a SIGKILL mid-stream', async () => {
    events = await appendEvents(300);
    const env = { DATABASE_URL: db.url, STREAM_NAME: streamName, SUBJECT_PREFIX: subjectPrefix };

    const first = runChild({ ...env, BATCH_SIZE: '7', READ_DELAY_MS: '25' });
    await waitUntil(
      async () => (await messageCount(streamName)) > 50,
      20_000,
      `>50 messages (${first.output()})`,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await messageCount(streamName);
    expect(atKill).toBeGreaterThan(50);
    expect(atKill).toBeLessThan(300);

    const second = runChild({ ...env, BATCH_SIZE: '50', EXIT_WHEN_DONE: '1' });
    expect(await second.exited).toBe(0);
    expect(JSON.parse(second.output().trim().split('\n').pop()!)).toMatchObject({
      position: events[299]!.globalPosition,
    });

    expectExactlyRelayed(await relayedMessages(streamName), events, subjectPrefix);
    const info = await jsm.streams.info(streamName);
    expect(info.config.subjects).toEqual([`${subjectPrefix}.events.>`]);
    expect(info.config.storage).toBe('file');
    expect(info.config.duplicate_window).toBeGreaterThanOrEqual(2 * 60 * 1e9);
  }, 60_000);

  it('resumes after the last message in the stream when the checkpoint lags behind it', async () => {
    await dataSource.query(`UPDATE checkpoints SET position = 0 WHERE name = $1`, [`relay:${streamName}`]);
    const relay = new JetStreamRelay(dataSource, store, nc, { streamName, subjectPrefix, publishedForm });
    try {
      expect(await relay.publishPending()).toBe(0);
      expect(relay.stats()).toMatchObject({ leader: true, published: 0, duplicates: 0 });
      const [row] = await dataSource.query(`SELECT position FROM checkpoints WHERE name = $1`, [
        `relay:${streamName}`,
      ]);
      expect(Number(row.position)).toBe(events[299]!.globalPosition);
    } finally {
      await relay.stop();
    }
    expect(await messageCount(streamName)).toBe(300);
  });

  it('publishing the same events twice leaves one message each (deduplicated by Nats-Msg-Id)', async () => {
    const relay = new JetStreamRelay(dataSource, store, nc, {
      streamName,
      subjectPrefix,
      publishedForm,
      batchSize: 64,
    });
    try {
      await relay.rewind(0);
      expect(await relay.publishPending()).toBe(300);
      expect(relay.stats()).toMatchObject({ published: 0, duplicates: 300 });
    } finally {
      await relay.stop();
    }
    expectExactlyRelayed(await relayedMessages(streamName), events, subjectPrefix);
  });
});

describe('JetStreamRelay batches (published together, acknowledged in order)', () => {
  it('publishes a batch of 250 with one ack each, and the next batch after the checkpoint', async () => {
    const { streamName, subjectPrefix } = target();
    const relay = new JetStreamRelay(dataSource, store, nc, { streamName, subjectPrefix, publishedForm });
    try {
      await relay.publishPending();
      const before = relay.stats().published;
      const events = await appendEvents(400);
      expect(await relay.publishPending()).toBe(400);
      expect(relay.stats()).toMatchObject({ published: before + 400, duplicates: 0 });
      const [row] = await dataSource.query(`SELECT position FROM checkpoints WHERE name = $1`, [
        `relay:${streamName}`,
      ]);
      expect(Number(row.position)).toBe(events[399]!.globalPosition);
      const relayed = await relayedMessages(streamName);
      expectExactlyRelayed(relayed.slice(-400), events, subjectPrefix);
    } finally {
      await relay.stop();
    }
  }, 30_000);

  it('a batch JetStream refuses from its middle on loses nothing and stores nothing twice', async () => {
    const { streamName, subjectPrefix } = target();
    const errors: unknown[] = [];
    const relay = new JetStreamRelay(dataSource, store, nc, {
      streamName,
      subjectPrefix,
      publishedForm,
      batchSize: 100,
      logger: { error: (_message, err) => errors.push(err) },
    });
    try {
      await relay.publishPending();
      const head = await store.headPosition();
      const before = await messageCount(streamName);
      // The stream takes 40 more messages, then refuses new ones: the batch of 100 fails at its 41st.
      await jsm.streams.update(streamName, { max_msgs: before + 40, discard: DiscardPolicy.New });
      const events = await appendEvents(100);
      await expect(relay.publishPending()).rejects.toThrow(/maximum messages/i);
      expect(await messageCount(streamName)).toBe(before + 40);
      expect(relay.stats().position).toBe(events[39]!.globalPosition);

      await jsm.streams.update(streamName, { max_msgs: -1 });
      expect(await relay.publishPending()).toBe(60);
      const all = (await store.readAll(0, 100_000)).filter(
        (e) => e.globalPosition <= events[99]!.globalPosition,
      );
      expectExactlyRelayed(await relayedMessages(streamName), all, subjectPrefix);
      expect(relay.stats()).toMatchObject({ duplicates: 0, position: events[99]!.globalPosition });
      expect(head).toBeLessThan(events[0]!.globalPosition);
    } finally {
      await relay.stop();
    }
  }, 30_000);

  it('a message JetStream refuses in the middle of a batch leaves no gap: the ones after it wait', async () => {
    const { streamName, subjectPrefix } = target();
    const relay = new JetStreamRelay(dataSource, store, nc, {
      streamName,
      subjectPrefix,
      publishedForm,
      batchSize: 100,
    });
    try {
      await relay.publishPending();
      const before = await messageCount(streamName);
      await jsm.streams.update(streamName, { max_msg_size: 2048 });
      const head = await store.headPosition();
      for (let i = 0; i < 30; i++) {
        const data = i === 10 ? { big: 'x'.repeat(4096) } : { i };
        await store.appendToStream(`big-${randomUUID()}`, 0, [{ type: 'Sized', data }]);
      }
      const events = await store.readAll(head, 100);
      await expect(relay.publishPending()).rejects.toThrow(/size exceeds maximum/i);
      expect(await messageCount(streamName)).toBe(before + 10);
      expect(relay.stats().position).toBe(events[9]!.globalPosition);

      await jsm.streams.update(streamName, { max_msg_size: -1 });
      expect(await relay.publishPending()).toBe(20);
      expectExactlyRelayed(await relayedMessages(streamName), await store.readAll(0, 100_000), subjectPrefix);
    } finally {
      await relay.stop();
    }
  }, 30_000);

  it('a pass over events that are all in the stream already (a rewind) stores nothing twice', async () => {
    const { streamName, subjectPrefix } = target();
    const relay = new JetStreamRelay(dataSource, store, nc, {
      streamName,
      subjectPrefix,
      publishedForm,
      batchSize: 64,
    });
    try {
      await relay.publishPending();
      const head = await store.headPosition();
      await appendEvents(30);
      await relay.publishPending();
      await relay.rewind(head);
      const more = await appendEvents(10);
      expect(await relay.publishPending()).toBe(40);
      expect(relay.stats()).toMatchObject({ duplicates: 30, position: more[9]!.globalPosition });
      expectExactlyRelayed(await relayedMessages(streamName), await store.readAll(0, 100_000), subjectPrefix);
    } finally {
      await relay.stop();
    }
  }, 30_000);

  it('under a stream of notify() the leader publishes at most one batch per gatherMs', async () => {
    const { streamName, subjectPrefix } = target();
    let reads = 0;
    const counting: EventStore = {
      appendToStream: (...a) => store.appendToStream(...a),
      appendMany: (...a) => store.appendMany(...a),
      readStream: (...a) => store.readStream(...a),
      headPosition: () => store.headPosition(),
      streamVersions: (ids) => store.streamVersions(ids),
      readSnapshot: (...a) => store.readSnapshot(...a),
      saveSnapshot: (snapshot) => store.saveSnapshot(snapshot),
      streamHasEvent: (...a) => store.streamHasEvent(...a),
      readAllOfTypes: (...a) => store.readAllOfTypes(...a),
      readAll: (after, limit) => {
        reads++;
        return store.readAll(after, limit);
      },
    };
    const relay = new JetStreamRelay(dataSource, counting, nc, {
      streamName,
      subjectPrefix,
      publishedForm,
      gatherMs: 300,
    });
    try {
      await relay.publishPending();
      relay.start(60_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      reads = 0;
      const started = Date.now();
      for (let i = 0; i < 60; i++) {
        await store.appendToStream(`gather-${randomUUID()}`, 0, [{ type: 'Gathered', data: { i } }]);
        relay.notify();
      }
      const elapsed = Date.now() - started;
      const head = await store.headPosition();
      await waitUntil(async () => relay.stats().position >= head, 10_000, 'every event relayed');
      // One read per pass (a batch shorter than batchSize ends it), one pass per gatherMs.
      expect(reads).toBeLessThanOrEqual(Math.ceil(elapsed / 300) + 2);
      expectExactlyRelayed(await relayedMessages(streamName), await store.readAll(0, 100_000), subjectPrefix);
    } finally {
      await relay.stop();
    }
  }, 30_000);

  it('a relay that does not lead tries the lock on its poll only, not on every notify()', async () => {
    const { streamName, subjectPrefix } = target();
    const other = createEventStoreDataSource(db.url, { poolSize: 3 });
    await other.initialize();
    let lockTries = 0;
    const createQueryRunner = other.createQueryRunner.bind(other);
    other.createQueryRunner = (...args) => {
      lockTries++;
      return createQueryRunner(...args);
    };
    const leader = new JetStreamRelay(dataSource, store, nc, { streamName, subjectPrefix, publishedForm });
    const follower = new JetStreamRelay(other, new PgEventStore(other), nc, {
      streamName,
      subjectPrefix,
      publishedForm,
    });
    try {
      await leader.publishPending();
      // A poll far longer than the test: any try of the lock after the first is a notify()'s,
      // however slowly the machine runs the loop below.
      follower.start(600_000);
      await waitUntil(async () => lockTries >= 1, 5_000, 'the first try of the lock');
      const tried = lockTries;
      const events = await appendEvents(5);
      for (let i = 0; i < 20; i++) {
        follower.notify();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(lockTries).toBe(tried);
      expect(follower.isLeader).toBe(false);
      expect(await leader.publishPending()).toBe(events.length);
      await leader.stop();
      await follower.stop();
      follower.start(300);
      await waitUntil(async () => follower.isLeader, 5_000, 'the follower takes over on its poll');
    } finally {
      await follower.stop();
      await leader.stop();
      await other.destroy();
    }
  }, 30_000);
});

describe('JetStreamRelay leadership and outages', () => {
  it('lets one relay per stream publish; another takes over when it stops', async () => {
    const { streamName, subjectPrefix } = target();
    const other = createEventStoreDataSource(db.url, { poolSize: 3 });
    await other.initialize();
    const a = new JetStreamRelay(dataSource, store, nc, { streamName, subjectPrefix, publishedForm });
    const b = new JetStreamRelay(other, new PgEventStore(other), nc, {
      streamName,
      subjectPrefix,
      publishedForm,
    });
    try {
      const head = await store.headPosition();
      await a.publishPending();
      const firstBatch = await appendEvents(10);
      const [byA, byB] = await Promise.all([a.publishPending(), b.publishPending()]);
      expect(a.isLeader).toBe(true);
      expect(b.isLeader).toBe(false);
      expect(byB).toBe(0);
      expect(byA).toBe(10);

      await a.stop();
      const secondBatch = await appendEvents(10);
      expect(await b.publishPending()).toBe(10);
      expect(b.isLeader).toBe(true);

      const all = await store.readAll(0, 100_000);
      expectExactlyRelayed(await relayedMessages(streamName), all, subjectPrefix);
      expect(all.filter((e) => e.globalPosition > head)).toEqual([...firstBatch, ...secondBatch]);
    } finally {
      await a.stop();
      await b.stop();
      await other.destroy();
    }
  }, 30_000);

  it('lag(): the leader counts the events it has yet to publish; a relay that does not lead reports none', async () => {
    const { streamName, subjectPrefix } = target();
    const other = createEventStoreDataSource(db.url, { poolSize: 3 });
    await other.initialize();
    const a = new JetStreamRelay(dataSource, store, nc, { streamName, subjectPrefix, publishedForm });
    const b = new JetStreamRelay(other, new PgEventStore(other), nc, {
      streamName,
      subjectPrefix,
      publishedForm,
    });
    try {
      expect(await a.lag()).toBeUndefined();
      await a.publishPending();
      await b.publishPending();
      expect(await a.lag()).toBe(0);
      await appendEvents(7);
      expect(await a.lag()).toBe(7);
      expect(await b.lag()).toBeUndefined();
      expect(await a.publishPending()).toBe(7);
      expect(await a.lag()).toBe(0);
    } finally {
      await a.stop();
      await b.stop();
      await other.destroy();
    }
  }, 30_000);

  it('keeps relaying after its Postgres connections are killed', async () => {
    const { streamName, subjectPrefix } = target();
    const errors: unknown[] = [];
    const relay = new JetStreamRelay(dataSource, store, nc, {
      streamName,
      subjectPrefix,
      publishedForm,
      retryDelayMs: 50,
      logger: { error: (_message, err) => errors.push(err) },
    });
    relay.start(20);
    try {
      await appendEvents(20);
      const head = await store.headPosition();
      await waitUntil(async () => relay.stats().position >= head, 20_000, 'first events relayed');

      await dataSource.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      await waitUntil(async () => (await appendEvents(20)).length === 20, 20_000, 'append after the kill');
      relay.notify();
      const later = await store.headPosition();
      await waitUntil(async () => relay.stats().position >= later, 20_000, 'later events relayed');

      const all = await store.readAll(0, 100_000);
      expectExactlyRelayed(await relayedMessages(streamName), all, subjectPrefix);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await relay.stop();
    }
  }, 60_000);

  it('keeps relaying across a NATS server outage', async () => {
    const server = await startPrivateNatsServer();
    const privateNc = await connect({
      servers: server.servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    const { streamName, subjectPrefix } = target();
    const errors: unknown[] = [];
    const relay = new JetStreamRelay(dataSource, store, privateNc, {
      streamName,
      subjectPrefix,
      publishedForm,
      retryDelayMs: 100,
      logger: { error: (_message, err) => errors.push(err) },
    });
    relay.start(20);
    try {
      await appendEvents(10);
      const head = await store.headPosition();
      await waitUntil(async () => relay.stats().position >= head, 20_000, 'events relayed before the outage');

      await server.kill();
      await appendEvents(10);
      relay.notify();
      await waitUntil(async () => errors.length > 0, 20_000, 'a failed pass while NATS is down');
      await server.restart();
      const later = await store.headPosition();
      await waitUntil(async () => relay.stats().position >= later, 30_000, 'events relayed after the outage');

      const privateJsm = await jetstreamManager(privateNc);
      const info = await privateJsm.streams.info(streamName);
      const relayed: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await privateJsm.streams.getMessage(streamName, { seq });
        if (m) relayed.push(m.header.get('Nats-Msg-Id'));
      }
      expect(relayed).toEqual((await store.readAll(0, 100_000)).map((e) => e.eventId));
    } finally {
      await relay.stop();
      await privateNc.close();
      await server.dispose();
    }
  }, 60_000);
});
