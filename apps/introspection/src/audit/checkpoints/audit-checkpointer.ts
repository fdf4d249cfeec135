import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import type { AuditCheckpointConfig, NatsConfig } from '#lib/config';
import { checkpointStreamOf, checkpointSubjectOf } from '#lib/contracts';
import {
  ChainCheckpointer,
  checkpointSigningKey,
  checkpointVerificationKey,
  DirectoryCheckpointSink,
  JetStreamCheckpointSink,
  PgEventStore,
} from '#lib/event-store';
import {
  AUDIT_CHECKPOINT_CONFIG,
  BUS_CONFIG,
  CLOCK,
  type Clock,
  DATA_SOURCE,
  metrics,
  NATS_CONNECTION,
  useMetrics,
} from '#lib/service-runtime';

/**
 * Signed checkpoints of the events' hash chain (docs/events.md "Checkpoints"): one replica leads
 * and, every AUDIT_CHECKPOINT_INTERVAL_MS, signs the head when it moved, to JetStream and to
 * AUDIT_CHECKPOINT_DIR. Without AUDIT_CHECKPOINT_SIGNING_KEY it says so and does nothing.
 */
@Injectable()
export class AuditCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditCheckpoints');
  private checkpointer: ChainCheckpointer | null = null;

  constructor(
    @Inject(AUDIT_CHECKPOINT_CONFIG) private readonly config: AuditCheckpointConfig,
    @Inject(BUS_CONFIG) private readonly bus: NatsConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const material = this.config.auditCheckpointSigningKey;
    if (material === undefined) {
      this.logger.log(
        'AUDIT_CHECKPOINT_SIGNING_KEY is not set: no signed checkpoints of the hash chain are made (docs/events.md "Checkpoints")',
      );
      return;
    }
    const key = await checkpointSigningKey(material);
    const verification = await checkpointVerificationKey(material);
    const stream = new JetStreamCheckpointSink(
      this.nats,
      checkpointStreamOf(this.bus.eventsStream),
      checkpointSubjectOf(this.bus.subjectPrefix),
      verification,
    );
    try {
      await stream.ensureStream();
    } catch (err) {
      this.logger.warn(`checkpoint stream not ready yet: ${(err as Error).message}`);
    }
    const dir = this.config.auditCheckpointDir;
    useMetrics('auditCheckpointPosition', 'auditCheckpointTimestamp');
    this.checkpointer = new ChainCheckpointer(this.dataSource, new PgEventStore(this.dataSource), {
      key,
      sinks: dir === undefined ? [stream] : [new DirectoryCheckpointSink(dir, verification), stream],
      clock: this.clock,
      logger: {
        error: (message, error) => this.logger.error(`${message}: ${(error as Error)?.message ?? ''}`),
      },
      onCheckpoint: (checkpoint) => {
        metrics.auditCheckpointPosition.set(checkpoint.position);
        metrics.auditCheckpointTimestamp.set(Date.parse(checkpoint.at) / 1000);
      },
    });
    this.logger.log(
      `signed checkpoints every ${this.config.auditCheckpointIntervalMs} ms (key ${key.kid}) to ${stream.name}` +
        (dir === undefined ? '' : ` and ${dir}`),
    );
    this.checkpointer.start(this.config.auditCheckpointIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.checkpointer?.stop().catch(() => undefined);
  }
}
