import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';
import { decodeRelayedEvent } from './relayed-event.js';
import { consoleLogger, sleep, type RunnerLogger } from './loop.js';
import { type ProjectionRunner } from './projection-runner.js';

export interface JetStreamProjectionFeedOptions {
  /** The JetStream stream the relay publishes to. */
  streamName: string;
  /** Subjects `${subjectPrefix}.events.>` are consumed. */
  subjectPrefix: string;
  /** Durable consumer name, shared by every replica of the service (e.g. `token_state`). */
  durableName: string;
  /** Pause before resubscribing after a failure (default 1000 ms). */
  retryDelayMs?: number;
  /**
   * Time a pass waits for more messages after the first one arrives (default 20 ms): under load
   * one pass folds many events. Readers that must not be stale catch up themselves.
   */
  gatherMs?: number;
  logger?: RunnerLogger;
}

/**
 * Feeds a ProjectionRunner from a JetStream durable pull consumer on every event subject
 * (docs/events.md "Distribution over JetStream"). Messages that arrive within `gatherMs` of the
 * first one (or during a pass) are folded in one `handleEvents` pass, then acknowledged by one ack
 * of the last; a failed pass naks them for redelivery. The runner decides
 * what to fold: redelivered events are skipped by its checkpoint, and a gap (messages taken by
 * another replica on the same durable, a stream purged or created late) makes it read the store.
 */
export class JetStreamProjectionFeed {
  private readonly retryDelayMs: number;
  private readonly gatherMs: number;
  private readonly logger: RunnerLogger;
  private messages: ConsumerMessages | null = null;
  private buffer: JsMsg[] = [];
  private flushing: Promise<void> | null = null;
  private loop: Promise<void> | null = null;
  private running = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly runner: ProjectionRunner,
    private readonly options: JetStreamProjectionFeedOptions,
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.gatherMs = Math.max(0, options.gatherMs ?? 20);
    this.logger = options.logger ?? consoleLogger;
  }

  /**
   * Creates the durable consumer if needed (the stream must exist). A pass acknowledges its last
   * message only (AckPolicy.All acknowledges every message up to it). A durable made by an earlier
   * release with explicit acks is replaced by one starting after its acknowledgement floor (the
   * ack policy of a consumer cannot be changed in place); the runner's checkpoint drops anything
   * delivered twice.
   */
  async ensureConsumer(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const config = {
      durable_name: this.options.durableName,
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${this.options.subjectPrefix}.events.>`,
    };
    let info;
    try {
      info = await jsm.consumers.info(this.options.streamName, this.options.durableName);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
      await jsm.consumers.add(this.options.streamName, config);
      return;
    }
    if (info.config.ack_policy === AckPolicy.All) return;
    await jsm.consumers.delete(this.options.streamName, this.options.durableName);
    await jsm.consumers.add(this.options.streamName, {
      ...config,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.ack_floor.stream_seq + 1,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.ensureConsumer();
          const consumer = await jetstream(this.nc).consumers.get(
            this.options.streamName,
            this.options.durableName,
          );
          this.messages = await consumer.consume({
            max_messages: 256,
            callback: (msg) => this.receive(msg),
          });
          await this.messages.closed();
        } catch (err) {
          if (this.running) this.logger.error(`feed ${this.options.durableName} failed`, err);
        }
        this.messages = null;
        if (this.running) await sleep(this.retryDelayMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.messages?.stop();
    await this.loop;
    this.loop = null;
    while (this.flushing) await this.flushing;
  }

  private receive(msg: JsMsg): void {
    this.buffer.push(msg);
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    try {
      await sleep(this.gatherMs);
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0, this.buffer.length);
        try {
          await this.runner.handleEvents(batch.map((m) => decodeRelayedEvent(m.data)));
          batch[batch.length - 1]!.ack();
        } catch (err) {
          this.logger.error(`feed ${this.options.durableName}: pass failed, messages redelivered`, err);
          for (const m of batch) m.nak(this.retryDelayMs);
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}
