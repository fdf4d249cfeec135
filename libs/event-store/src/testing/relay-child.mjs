// A JetStreamRelay in a process of its own, for jetstream-relay.int.spec.ts, which kills it with
// SIGKILL in the middle of the stream. It runs the BUILT library: `npm run build` first (`npm test`
// does). Environment:
//   DATABASE_URL, NATS_URL, STREAM_NAME, SUBJECT_PREFIX  where to relay from and to
//   BATCH_SIZE          events per checkpoint (default 100)
//   READ_DELAY_MS       pause before each read of the log, to give the test time to kill mid-stream
//   EXIT_WHEN_DONE=1    publish up to the head seen at start, then stop and exit 0; otherwise run the
//                       start() loop until SIGTERM
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import {
  createEventStoreDataSource,
  JetStreamRelay,
  PgEventStore,
} from '../../../../dist/libs/event-store/src/index.js';

const env = process.env;
const readDelayMs = Number(env.READ_DELAY_MS ?? 0);

const dataSource = createEventStoreDataSource(env.DATABASE_URL, {
  poolSize: 3,
  applicationName: 'relay-child',
});
await dataSource.initialize();
const pgStore = new PgEventStore(dataSource);
const store = {
  appendToStream: (...args) => pgStore.appendToStream(...args),
  appendMany: (requests) => pgStore.appendMany(requests),
  readStream: (streamId, options) => pgStore.readStream(streamId, options),
  headPosition: () => pgStore.headPosition(),
  readAll: async (after, limit) => {
    if (readDelayMs > 0) await sleep(readDelayMs);
    return pgStore.readAll(after, limit);
  },
};
const nc = await connect({ servers: env.NATS_URL ?? '127.0.0.1:4222' });
const relay = new JetStreamRelay(dataSource, store, nc, {
  streamName: env.STREAM_NAME,
  subjectPrefix: env.SUBJECT_PREFIX,
  publishedForm: (event) => event,
  batchSize: Number(env.BATCH_SIZE ?? 100),
  retryDelayMs: 100,
});

async function shutdown(code) {
  await relay.stop();
  await nc.close();
  await dataSource.destroy();
  process.exit(code);
}

if (env.EXIT_WHEN_DONE === '1') {
  const head = await pgStore.headPosition();
  while (relay.stats().position < head) {
    try {
      await relay.publishPending();
    } catch (err) {
      process.stderr.write(`relay pass failed: ${err}\n`);
      await sleep(100);
    }
  }
  process.stdout.write(`${JSON.stringify(relay.stats())}\n`);
  await shutdown(0);
} else {
  process.on('SIGTERM', () => void shutdown(0));
  relay.start(10);
  process.stdout.write('started\n');
}
