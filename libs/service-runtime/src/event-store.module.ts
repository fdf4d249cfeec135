import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DatabaseConfig, NatsConfig, PersonalDataConfig } from '#lib/config';
import { type DataKeys, PersonalDataEventStore, type PersonalFields, PgDataKeys } from '#lib/personal-data';
import { publishedForm } from '#lib/contracts';
import {
  type AppendManyOptions,
  type AppendRequest,
  type AppendResult,
  createEventStoreDataSource,
  type EventStore,
  type ExpectedVersion,
  JetStreamRelay,
  type NewEvent,
  PgEventStore,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamEventQuery,
  type StreamSnapshot,
  type TypedPage,
} from '#lib/event-store';
import type { DataSource } from 'typeorm';
import { metrics, type PoolGauges, reportDatabasePool, reportRelayLag, useMetrics } from './metrics.js';
import { natsConnectionOptions } from './nats-options.js';
import {
  BUS_CONFIG,
  DATA_KEYS,
  DATABASE_CONFIG,
  DATA_SOURCE,
  EVENT_RELAY,
  EVENT_STORE,
  NATS_CONNECTION,
  PERSONAL_DATA_CONFIG,
} from './tokens.js';
import { inSpan, SpanKind } from './tracing.js';

const db = (operation: string) => ({
  kind: SpanKind.CLIENT,
  attributes: { 'db.system': 'postgresql', 'db.operation': operation, 'db.sql.table': 'events' },
});

async function timed<T>(size: number, append: () => Promise<T>): Promise<T> {
  return inSpan('event-store append', db('INSERT'), async (span) => {
    span.setAttribute('authz.events', size);
    const end = metrics.eventAppendDuration.startTimer();
    try {
      return await append();
    } finally {
      end();
      metrics.eventAppendBatchSize.observe(size);
    }
  });
}

const RELAY_STOP_WAIT_MS = 1000;

/** The store a service appends through: the relay is woken after every commit. */
class RelayedEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly relay: JetStreamRelay,
  ) {
    useMetrics('eventAppendDuration', 'eventAppendBatchSize');
  }

  async appendToStream(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
  ): Promise<AppendResult> {
    const result = await timed(events.length, () =>
      this.inner.appendToStream(streamId, expectedVersion, events),
    );
    this.relay.notify();
    return result;
  }

  async appendMany(requests: AppendRequest[], options?: AppendManyOptions): Promise<AppendResult[]> {
    const result = await timed(
      requests.reduce((n, r) => n + r.events.length, 0),
      () => this.inner.appendMany(requests, options),
    );
    this.relay.notify();
    return result;
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return inSpan('event-store read stream', db('SELECT'), () => this.inner.readStream(streamId, options));
  }

  readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return this.inner.readAll(after, limit);
  }

  readAllOfTypes(after: number, limit: number, types: readonly string[]): Promise<TypedPage> {
    return this.inner.readAllOfTypes(after, limit, types);
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  streamVersions(streamIds: readonly string[]): Promise<Map<string, number>> {
    return inSpan('event-store stream versions', db('SELECT'), () => this.inner.streamVersions(streamIds));
  }

  readSnapshot(streamId: string, schema: string): Promise<StreamSnapshot | null> {
    return inSpan('event-store read snapshot', db('SELECT'), () => this.inner.readSnapshot(streamId, schema));
  }

  saveSnapshot(snapshot: StreamSnapshot): Promise<void> {
    return inSpan('event-store save snapshot', db('INSERT'), () => this.inner.saveSnapshot(snapshot));
  }

  streamHasEvent(streamId: string, query: StreamEventQuery): Promise<boolean> {
    return inSpan('event-store probe stream', db('SELECT'), () => this.inner.streamHasEvent(streamId, query));
  }
}

@Injectable()
class EventInfrastructureLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventRelay');

  constructor(
    @Inject(EVENT_RELAY) private readonly relay: JetStreamRelay,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.relay.ensureStream();
    } catch (err) {
      this.logger.warn(`JetStream stream not ready yet: ${(err as Error).message}`);
    }
    this.relay.start(250);
    reportRelayLag(this.relay.streamName, () => this.relay.lag());
  }

  async onApplicationShutdown(): Promise<void> {
    // A relay pass stuck on a JetStream publish (NATS just restarted) would hold the shutdown for
    // the publish timeout; an interrupted pass is safe (the checkpoint follows the publish, and
    // JetStream drops the duplicates by message id), so it gets a bounded wait.
    await Promise.race([
      this.relay.stop(),
      new Promise((resolve) => setTimeout(resolve, RELAY_STOP_WAIT_MS).unref()),
    ]);
    await this.nats.drain().catch(() => undefined);
    await this.dataSource.destroy().catch(() => undefined);
  }
}

/**
 * Postgres event store, the NATS connection and the JetStream relay for one service process.
 * Every process runs a relay; the relays elect one leader among themselves. Needs the service to
 * declare DATABASE_CONFIG and BUS_CONFIG (ServiceConfigModule).
 */
@Module({})
export class EventStoreModule {
  /**
   * `personalFields`: the service owns personal data (GDPR Art. 17): its event store seals those
   * fields under per-person data keys (libs/personal-data), and DATA_KEYS is provided; needs
   * PERSONAL_DATA_CONFIG.
   */
  static forService(serviceName: string, options: { personalFields?: PersonalFields } = {}): DynamicModule {
    const personalFields = options.personalFields;
    const sealing = personalFields
      ? [
          {
            provide: DATA_KEYS,
            inject: [DATA_SOURCE, PERSONAL_DATA_CONFIG],
            useFactory: (ds: DataSource, c: PersonalDataConfig) => new PgDataKeys(ds, c.personalDataKey),
          },
        ]
      : [];
    return {
      module: EventStoreModule,
      global: true,
      providers: [
        {
          provide: DATA_SOURCE,
          inject: [DATABASE_CONFIG],
          useFactory: async (config: DatabaseConfig) => {
            const ds = createEventStoreDataSource(config.databaseUrl, { poolSize: config.databasePoolSize });
            await ds.initialize();
            // TypeORM's Postgres driver keeps its node-postgres Pool as `master`.
            reportDatabasePool(() => (ds.driver as { master?: PoolGauges }).master);
            return ds;
          },
        },
        {
          provide: NATS_CONNECTION,
          inject: [BUS_CONFIG],
          useFactory: (config: NatsConfig) => connect(natsConnectionOptions(config, `${serviceName}-relay`)),
        },
        {
          provide: EVENT_RELAY,
          inject: [DATA_SOURCE, NATS_CONNECTION, BUS_CONFIG],
          useFactory: (ds: DataSource, nc: NatsConnection, config: NatsConfig) =>
            new JetStreamRelay(ds, new PgEventStore(ds), nc, {
              streamName: config.eventsStream,
              subjectPrefix: config.subjectPrefix,
              // Password hashes, stored hashes of secrets, sealed keys and personal data stay in
              // the store: only each type's declared fields are published (docs/events.md).
              publishedForm,
            }),
        },
        ...sealing,
        {
          provide: EVENT_STORE,
          inject: personalFields ? [DATA_SOURCE, EVENT_RELAY, DATA_KEYS] : [DATA_SOURCE, EVENT_RELAY],
          useFactory: (ds: DataSource, relay: JetStreamRelay, keys?: DataKeys) => {
            const store = new RelayedEventStore(new PgEventStore(ds), relay);
            return personalFields && keys ? new PersonalDataEventStore(store, keys, personalFields) : store;
          },
        },
        EventInfrastructureLifecycle,
      ],
      exports: [DATA_SOURCE, EVENT_STORE, NATS_CONNECTION, ...(personalFields ? [DATA_KEYS] : [])],
    };
  }
}
