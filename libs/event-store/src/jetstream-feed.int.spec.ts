import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type DataSource } from 'typeorm';
import { createTestDatabase, natsServers, runMigrations, uniqueName, type TestDatabase } from '#lib/testing';
import { createEventStoreDataSource } from './data-source.js';
import { type EventStore } from './event-store.js';
import { JetStreamProjectionFeed } from './jetstream-feed.js';
import { JetStreamRelay } from './jetstream-relay.js';
import { PgEventStore } from './pg-event-store.js';
import { type Projection } from './projection.js';
import { rebuildAndCompare } from './projection-rebuild.js';
import { ProjectionRows } from './projection-rows.js';
import { ProjectionRunner } from './projection-runner.js';

/** Events per stream: one row per stream id holding the count and the last type. */
const perStream: Projection<{ n: number; last: string }> = {
  name: 'per_stream',
  keyOf: (e) => e.streamId,
  evolve: (row, e) => ({ n: (row?.n ?? 0) + 1, last: e.type }),
};

/** The store as the runner sees it, counting the reads it makes (to tell JetStream input from polling). */
class CountingStore implements EventStore {
  readAllCalls = 0;
  constructor(private readonly inner: EventStore) {}
  appendToStream = (...a: Parameters<EventStore['appendToStream']>) => this.inner.appendToStream(...a);
  appendMany = (...a: Parameters<EventStore['appendMany']>) => this.inner.appendMany(...a);
  readStream = (...a: Parameters<EventStore['readStream']>) => this.inner.readStream(...a);
  headPosition = () => this.inner.headPosition();
  streamVersions = (...a: Parameters<EventStore['streamVersions']>) => this.inner.streamVersions(...a);
  readSnapshot = (...a: Parameters<EventStore['readSnapshot']>) => this.inner.readSnapshot(...a);
  saveSnapshot = (...a: Parameters<EventStore['saveSnapshot']>) => this.inner.saveSnapshot(...a);
  streamHasEvent = (...a: Parameters<EventStore['streamHasEvent']>) => this.inner.streamHasEvent(...a);
  readAll(after: number, limit: number) {
    this.readAllCalls++;
    return this.inner.readAll(after, limit);
  }
  readAllOfTypes(...a: Parameters<EventStore['readAllOfTypes']>) {
    this.readAllCalls++;
    return this.inner.readAllOfTypes(...a);
  }
}

describe('JetStreamProjectionFeed (projection from a JetStream durable consumer)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: PgEventStore;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streamName = uniqueName('feed_test').toUpperCase();
  const subjectPrefix = `t${randomUUID().replaceAll('-', '')}`;
  let relay: JetStreamRelay;

  const append = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await store.appendToStream(`thing-${i % 7}`, 'any', [{ type: i % 2 ? 'Odd' : 'Even', data: { i } }]);
    }
    await relay.publishPending();
  };
  const reach = async (runner: ProjectionRunner, position: number) => {
    const deadline = Date.now() + 10_000;
    while ((await runner.position()) < position) {
      if (Date.now() > deadline)
        throw new Error(`projection stuck at ${await runner.position()} < ${position}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase('feed');
    await runMigrations(db.url);
    ds = createEventStoreDataSource(db.url, { poolSize: 6 });
    await ds.initialize();
    store = new PgEventStore(ds);
    nc = await connect({ servers: natsServers() });
    jsm = await jetstreamManager(nc);
    relay = new JetStreamRelay(ds, store, nc, { streamName, subjectPrefix, publishedForm: (e) => e });
    await relay.ensureStream();
  }, 30_000);

  afterAll(async () => {
    await relay?.stop();
    await jsm?.streams.delete(streamName).catch(() => undefined);
    await nc?.close();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  }, 30_000);

  /**
   * The consumer's info once the server has processed the pass's acknowledgement: the runner reaches
   * its position before the ack (published without waiting for an answer) is applied, so the
   * assertion waits for that event, not for a while.
   */
  async function ackedInfo(durable: string) {
    const deadline = Date.now() + 10000;
    for (;;) {
      const info = await jsm.consumers.info(streamName, durable);
      if (info.num_ack_pending === 0 || Date.now() > deadline) return info;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('folds what JetStream delivers without reading the store, and resumes from its durable after a restart', async () => {
    const counting = new CountingStore(store);
    const runner = new ProjectionRunner(ds, counting, [perStream]);
    const options = { streamName, subjectPrefix, durableName: 'per_stream', retryDelayMs: 100 };
    let feed = new JetStreamProjectionFeed(nc, runner, options);
    feed.start();
    await append(40);
    await reach(runner, await store.headPosition());
    expect(counting.readAllCalls).toBe(0);
    await feed.stop();

    await append(30);
    expect(await runner.position()).toBeLessThan(await store.headPosition());
    feed = new JetStreamProjectionFeed(nc, runner, options);
    feed.start();
    await reach(runner, await store.headPosition());
    await feed.stop();
    expect(counting.readAllCalls).toBe(0);
    const info = await jsm.consumers.info(streamName, 'per_stream');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);

    const rows = await new ProjectionRows(ds).all<{ n: number }>('per_stream');
    expect(rows.reduce((sum, r) => sum + r.row.n, 0)).toBe(70);
    expect(await rebuildAndCompare(ds, store, perStream)).toMatchObject({ equal: true, liveRows: 7 });
  });
  it('acknowledges a pass with one ack of its last message (AckPolicy.All)', async () => {
    const runner = new ProjectionRunner(ds, store, [{ ...perStream, name: 'acked_all' }]);
    const feed = new JetStreamProjectionFeed(nc, runner, {
      streamName,
      subjectPrefix,
      durableName: 'acked_all',
    });
    feed.start();
    try {
      await append(25);
      await reach(runner, await store.headPosition());
      const info = await ackedInfo('acked_all');
      expect(info.config.ack_policy).toBe(AckPolicy.All);
      expect(info.num_ack_pending).toBe(0);
      expect(info.ack_floor.stream_seq).toBe((await jsm.streams.info(streamName)).state.last_seq);
    } finally {
      await feed.stop();
    }
  });

  it('a failed pass naks its messages and the redelivery folds them, without reading the store', async () => {
    const counting = new CountingStore(store);
    const runner = new ProjectionRunner(ds, counting, [{ ...perStream, name: 'nak_redelivered' }]);
    const logged: string[] = [];
    const feed = new JetStreamProjectionFeed(nc, runner, {
      streamName,
      subjectPrefix,
      durableName: 'nak_redelivered',
      retryDelayMs: 50,
      logger: { error: (message) => logged.push(message) },
    });
    feed.start();
    try {
      await append(5);
      await reach(runner, await store.headPosition());
      const handleEvents = runner.handleEvents.bind(runner);
      let failures = 0;
      runner.handleEvents = (events) => {
        if (failures++ === 0) return Promise.reject(new Error('Postgres went away'));
        return handleEvents(events);
      };
      const before = counting.readAllCalls;
      await append(6);
      await reach(runner, await store.headPosition());
      expect(failures).toBeGreaterThan(1);
      expect(logged).toEqual(['feed nak_redelivered: pass failed, messages redelivered']);
      expect(counting.readAllCalls).toBe(before);
      const info = await ackedInfo('nak_redelivered');
      expect(info.num_ack_pending).toBe(0);
    } finally {
      await feed.stop();
    }
  });

  it('replaces a durable with explicit acks (an earlier release) by one that starts after its ack floor', async () => {
    await append(10);
    const durableName = 'legacy_explicit';
    const first = (await jsm.streams.info(streamName)).state.first_seq;
    await jsm.consumers.add(streamName, {
      durable_name: durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${subjectPrefix}.events.>`,
    });
    const legacy = await jetstream(nc).consumers.get(streamName, durableName);
    for await (const m of await legacy.fetch({ max_messages: 5, expires: 2000 })) await m.ackAck();
    const floor = (await jsm.consumers.info(streamName, durableName)).ack_floor.stream_seq;
    expect(floor).toBe(first + 4);

    const runner = new ProjectionRunner(ds, store, [{ ...perStream, name: durableName }]);
    const feed = new JetStreamProjectionFeed(nc, runner, { streamName, subjectPrefix, durableName });
    feed.start();
    try {
      await append(5);
      await reach(runner, await store.headPosition());
      const info = await ackedInfo(durableName);
      expect(info.config.ack_policy).toBe(AckPolicy.All);
      expect(info.config.deliver_policy).toBe(DeliverPolicy.StartSequence);
      expect(info.config.opt_start_seq).toBe(floor + 1);
      expect(info.num_ack_pending).toBe(0);
      expect(info.num_pending).toBe(0);
      const rows = await new ProjectionRows(ds).all<{ n: number }>(durableName);
      expect(rows.reduce((sum, r) => sum + r.row.n, 0)).toBe(await store.headPosition());
    } finally {
      await feed.stop();
    }
  });

  it('folds the messages that arrive within gatherMs of the first in one pass', async () => {
    const runner = new ProjectionRunner(ds, store, [{ ...perStream, name: 'gathered' }]);
    const passes: number[] = [];
    const handleEvents = runner.handleEvents.bind(runner);
    runner.handleEvents = (events) => {
      passes.push(events.length);
      return handleEvents(events);
    };
    const feed = new JetStreamProjectionFeed(nc, runner, {
      streamName,
      subjectPrefix,
      durableName: 'gathered',
      gatherMs: 300,
    });
    feed.start();
    try {
      await relay.publishPending();
      await reach(runner, await store.headPosition());
      passes.length = 0;
      await append(40);
      await reach(runner, await store.headPosition());
      expect(passes).toEqual([40]);
    } finally {
      await feed.stop();
    }
  });
});
