// `node bench/distribution.mjs` (after `npm run build`): what distributing one event costs, each
// stage alone in this process with nothing else running, as CPU time per event (this process, NATS,
// Postgres). Stages: the JetStream relay publishing N client-credentials issuance events already in
// the store, then the token_state projection fed from JetStream (decode, fold, upsert, ack).
// Environment: EVENTS (default 20000), BATCH (events appended per append, default 25),
// BENCH_PROFILE=1 (a V8 CPU profile of this process per stage in bench/profiles/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { cpuOfCommand, cpuSpent } from './cpu.mjs';
import { BenchSystem, ROOT } from './system.mjs';

const EVENTS = Number(process.env.EVENTS ?? 20000);
const BATCH = Number(process.env.BATCH ?? 25);
const {
  createEventStoreDataSource,
  JetStreamProjectionFeed,
  JetStreamRelay,
  PgEventStore,
  ProjectionRunner,
} = await import('../dist/libs/event-store/src/index.js');
const { accessTokenStreamId, grantStateProjection, tokenStateProjection } =
  await import('../dist/libs/domain-token/src/index.js');
const { publishedForm } = await import('../dist/libs/contracts/src/index.js');

/** CPU µs per event of this process, nats-server and Postgres while `work` runs. */
async function measured(name, work) {
  const session = process.env.BENCH_PROFILE ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const before = {
    self: process.cpuUsage(),
    nats: cpuOfCommand('nats-server'),
    pg: cpuOfCommand('postgres'),
  };
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const self = process.cpuUsage(before.self);
  const perEvent = (ms) => Math.round((ms / EVENTS) * 1000);
  const spentBy = (comm, since) => {
    const { user, sys } = cpuSpent(since, cpuOfCommand(comm));
    return user + sys;
  };
  const figures = {
    stage: name,
    events: EVENTS,
    eventsPerSecond: Math.round(EVENTS / (ms / 1000)),
    cpuPerEvent: {
      process: `${perEvent((self.user + self.system) / 1000)} µs`,
      nats: `${perEvent(spentBy('nats-server', before.nats))} µs`,
      postgres: `${perEvent(spentBy('postgres', before.pg))} µs`,
    },
  };
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(resolve(ROOT, 'bench/profiles'), { recursive: true });
    writeFileSync(resolve(ROOT, `bench/profiles/distribution-${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  console.log(JSON.stringify(figures));
}

const system = await BenchSystem.start();
const dataSource = createEventStoreDataSource(system.env.DATABASE_URL, { poolSize: 4 });
await dataSource.initialize();
const nc = await connect({ servers: system.env.NATS_URL });
try {
  const store = new PgEventStore(dataSource);
  const now = Math.floor(Date.now() / 1000);
  for (let done = 0; done < EVENTS; done += BATCH) {
    await store.appendMany(
      Array.from({ length: Math.min(BATCH, EVENTS - done) }, () => {
        const jti = randomUUID();
        return {
          streamId: accessTokenStreamId(jti),
          expectedVersion: 0,
          events: [
            {
              type: 'AccessTokenIssued',
              data: {
                jti,
                clientId: 'bench-cc',
                sub: 'bench-cc',
                aud: ['https://api.example'],
                scope: ['read'],
                grantType: 'client_credentials',
                iat: now,
                exp: now + 3600,
                kid: 'bench-key',
              },
              metadata: { actor: 'client:bench-cc', correlationId: randomUUID() },
            },
          ],
        };
      }),
    );
  }
  const head = await store.headPosition();

  const relay = new JetStreamRelay(dataSource, store, nc, {
    streamName: system.env.EVENTS_STREAM,
    subjectPrefix: system.env.NATS_SUBJECT_PREFIX,
    publishedForm,
  });
  await relay.ensureStream();
  await measured('relay', async () => {
    while (relay.stats().position < head) await relay.publishPending();
  });
  await relay.stop();

  const runner = new ProjectionRunner(dataSource, store, [tokenStateProjection, grantStateProjection], {
    batchSize: 500,
  });
  const feed = new JetStreamProjectionFeed(nc, runner, {
    streamName: system.env.EVENTS_STREAM,
    subjectPrefix: system.env.NATS_SUBJECT_PREFIX,
    durableName: 'token_state',
  });
  await measured('token_state feed', async () => {
    feed.start();
    while ((await runner.position()) < head) await new Promise((r) => setTimeout(r, 20));
  });
  await feed.stop();
} finally {
  await nc.close();
  await dataSource.destroy();
  await system.stop();
}
