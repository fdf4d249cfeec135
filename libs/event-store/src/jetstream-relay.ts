import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import { headers, nanos, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { type DataSource } from 'typeorm';
import { type EventStore, type RecordedEvent } from './event-store.js';
import { publishTogether } from './jetstream-publish.js';
import { Alarm, consoleLogger, sleep, type RunnerLogger } from './loop.js';
import { RelayLeader } from './relay-leader.js';
import {
  EVENT_POSITION_HEADER,
  encodeRelayedEvent,
  eventSubject,
  type PublishedForm,
} from './relayed-event.js';

export interface JetStreamRelayOptions {
  /** The JetStream stream the events go to. */
  streamName: string;
  /** What of each event is published (docs/events.md "Distribution over JetStream"). */
  publishedForm: PublishedForm;
  /** Subjects are `${subjectPrefix}.events.<category>.<type>`. */
  subjectPrefix: string;
  /** Events read, published together and checkpointed at a time (default 250). */
  batchSize?: number;
  /** JetStream duplicate window (default 2 minutes, JetStream's own default). */
  duplicateWindowMs?: number;
  /** Pause of the start() loop after a failed pass (default 1000 ms). */
  retryDelayMs?: number;
  /**
   * Least time between two passes of the start() loop that publish (default 20 ms): appends that
   * wake the leader one after another under load are published as one batch.
   */
  gatherMs?: number;
  logger?: RunnerLogger;
}

export interface RelayStats {
  leader: boolean;
  /** Messages JetStream stored. */
  published: number;
  /** Messages JetStream acknowledged as duplicates of one it already held. */
  duplicates: number;
  /** Global position of the last event acknowledged. */
  position: number;
}

/**
 * Relays committed events to JetStream, in global order: the events table is the outbox
 * (ARCHITECTURE.md "Events are the source of truth"). Contracts:
 * - each event is one message, its published form as JSON (options.publishedForm), with
 *   Nats-Msg-Id = eventId so that JetStream drops a republished event within the duplicate
 *   window, and Event-Position = globalPosition;
 * - the stream holds a prefix of the log, in global order. A batch is published without waiting
 *   for each PubAck, every message after the first expecting its predecessor as the stream's last
 *   message (Nats-Expected-Last-Msg-Id), so a message lost in flight (a reconnect) makes JetStream
 *   refuse the ones after it rather than store them past a gap. Acks are taken in order up to the
 *   first failure; the rest of the batch is then published one at a time, each PubAck awaited (a
 *   republished message is dropped as a duplicate; a rewind's duplicates leave no last message to
 *   expect). The checkpoint (`relay:${streamName}` in table checkpoints) is saved after every
 *   batch, and on taking over a relay resumes after the larger of that checkpoint and the
 *   Event-Position of the stream's last message, so a crash between publish and checkpoint does not
 *   republish (not even outside the duplicate window);
 * - one relay per stream publishes at a time: the leader holds a session advisory lock on a
 *   connection of its own, checks that connection at the start of every pass and saves the
 *   checkpoint through it, so a relay that lost the connection (and the lock with it) stops within
 *   one batch; the others try the lock once per poll interval (notify() does not wake them, so
 *   appends in a process that does not lead cost no query). Should two ever overlap, JetStream
 *   drops the duplicates;
 * - errors (NATS or Postgres down) are logged and the loop retries; nothing is skipped.
 */
export class JetStreamRelay {
  private readonly batchSize: number;
  private readonly duplicateWindowMs: number;
  private readonly retryDelayMs: number;
  private readonly gatherMs: number;
  private readonly logger: RunnerLogger;
  private readonly js: JetStreamClient;
  private readonly publishedForm: PublishedForm;
  private jsm: JetStreamManager | null = null;
  private readonly leader: RelayLeader;
  private position = 0;
  private counters = { published: 0, duplicates: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private running = false;
  private readonly alarm = new Alarm();

  constructor(
    dataSource: DataSource,
    private readonly store: EventStore,
    private readonly nc: NatsConnection,
    private readonly options: JetStreamRelayOptions,
  ) {
    this.batchSize = Math.max(1, options.batchSize ?? 250);
    this.duplicateWindowMs = options.duplicateWindowMs ?? 2 * 60_000;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.gatherMs = Math.max(0, options.gatherMs ?? 20);
    this.logger = options.logger ?? consoleLogger;
    this.leader = new RelayLeader(dataSource, options.streamName, `relay:${options.streamName}`);
    this.js = jetstream(nc);
    this.publishedForm = options.publishedForm;
  }

  get streamName(): string {
    return this.options.streamName;
  }

  get isLeader(): boolean {
    return this.leader.isLeader;
  }

  stats(): RelayStats {
    return { leader: this.isLeader, ...this.counters, position: this.position };
  }

  /**
   * Events in the store this relay has yet to publish (head position minus its position), while it
   * leads; undefined otherwise (a follower's position means nothing).
   */
  async lag(): Promise<number | undefined> {
    if (!this.isLeader) return undefined;
    const head = await this.store.headPosition();
    return this.isLeader ? Math.max(0, head - this.position) : undefined;
  }

  /** Creates the stream (file storage) or brings its subjects and duplicate window up to date. */
  async ensureStream(): Promise<void> {
    const jsm = await this.manager();
    const subjects = [`${this.options.subjectPrefix}.events.>`];
    const duplicateWindow = nanos(this.duplicateWindowMs);
    try {
      const info = await jsm.streams.info(this.options.streamName);
      const same =
        info.config.duplicate_window === duplicateWindow &&
        JSON.stringify(info.config.subjects) === JSON.stringify(subjects);
      if (!same) {
        await jsm.streams.update(this.options.streamName, { subjects, duplicate_window: duplicateWindow });
      }
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await jsm.streams.add({
        name: this.options.streamName,
        subjects,
        storage: StorageType.File,
        duplicate_window: duplicateWindow,
      });
    }
  }

  /**
   * One pass: takes the lead if free, then publishes every event after the position, a batch and a
   * checkpoint at a time. Resolves to the number of events published (0 when another relay leads).
   */
  publishPending(): Promise<number> {
    return this.exclusive(async () => {
      try {
        if (!(await this.lead())) return 0;
        let total = 0;
        for (;;) {
          const events = await this.store.readAll(this.position, this.batchSize);
          if (events.length === 0) return total;
          await this.publishBatch(events);
          await this.leader.saveCheckpoint(this.position);
          total += events.length;
          if (events.length < this.batchSize) return total;
        }
      } catch (err) {
        await this.leader.stepDown();
        throw err;
      }
    });
  }

  /**
   * Publishes again every event after `position` on the next pass, leaving it to JetStream to drop
   * what it still holds within the duplicate window (to refill a purged stream, or to check the
   * deduplication). This relay must be the leader.
   */
  rewind(position: number): Promise<void> {
    return this.exclusive(async () => {
      if (!(await this.lead())) throw new Error(`relay ${this.options.streamName}: another relay leads`);
      await this.leader.saveCheckpoint(position);
      this.position = position;
    });
  }

  /**
   * Publishes every `pollMs` until stop(), and on notify() while leading; errors are logged, the
   * loop goes on.
   */
  start(pollMs = 1000): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let failed = false;
        let published = 0;
        try {
          published = await this.publishPending();
        } catch (err) {
          this.logger.error(`relay ${this.options.streamName} failed`, err);
          failed = true;
        }
        // A ring during this wait is kept: the pause below is then skipped.
        if (published > 0 && this.running && this.gatherMs > 0) await sleep(this.gatherMs);
        if (this.running) {
          await this.alarm.pause(failed ? Math.max(pollMs, this.retryDelayMs) : pollMs, {
            ignoreRings: failed || !this.isLeader,
          });
        }
      }
    })();
  }

  /** Runs a pass now: call after local appends. */
  notify(): void {
    if (this.running) this.alarm.ring();
    else
      this.publishPending().catch((err: unknown) =>
        this.logger.error(`relay ${this.options.streamName}`, err),
      );
  }

  /** Ends the loop and gives up the lead. The NATS connection and the DataSource stay open. */
  async stop(): Promise<void> {
    this.running = false;
    this.alarm.interrupt();
    await this.loop;
    this.loop = null;
    await this.exclusive(() => this.leader.stepDown());
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async manager(): Promise<JetStreamManager> {
    this.jsm ??= await jetstreamManager(this.nc);
    return this.jsm;
  }

  /** True when this relay leads, taking the lead if it is free and resuming where the stream ends. */
  private async lead(): Promise<boolean> {
    const lead = await this.leader.take();
    if (lead !== 'taken') return lead === 'held';
    try {
      await this.ensureStream();
      const checkpoint = await this.leader.checkpoint();
      this.position = Math.max(checkpoint, await this.lastPublishedPosition());
      if (this.position > checkpoint) await this.leader.saveCheckpoint(this.position);
      return true;
    } catch (err) {
      await this.leader.stepDown();
      throw err;
    }
  }

  /** Event-Position of the last message in the stream (0 when empty). */
  private async lastPublishedPosition(): Promise<number> {
    const jsm = await this.manager();
    const info = await jsm.streams.info(this.options.streamName);
    if (info.state.last_seq === 0 || info.state.messages === 0) return 0;
    const last = await jsm.streams.getMessage(this.options.streamName, { seq: info.state.last_seq });
    const position = Number(last?.header?.get(EVENT_POSITION_HEADER));
    return Number.isSafeInteger(position) && position > 0 ? position : 0;
  }

  /** Publishes `events` (in global order), moving the position past each one JetStream acknowledged. */
  private async publishBatch(events: RecordedEvent[]): Promise<void> {
    const acks = await this.publishTogether(events);
    let next = 0;
    for (; next < events.length; next++) {
      const ack = acks[next]!;
      if (ack instanceof Error) break;
      this.acknowledged(events[next]!, ack);
    }
    for (; next < events.length; next++) {
      this.acknowledged(events[next]!, await this.publish(events[next]!, undefined));
    }
  }

  /**
   * Publishes every event of the batch at once, each after the first expecting its predecessor as
   * the stream's last message. Resolves to each message's PubAck, or the error JetStream answered,
   * or a timeout.
   */
  private publishTogether(events: RecordedEvent[]): Promise<(PubAck | Error)[]> {
    return publishTogether(this.nc, events, (event, i) => ({
      subject: eventSubject(this.options.subjectPrefix, event),
      body: this.body(event),
      headers: this.messageHeaders(event, i === 0 ? undefined : events[i - 1]!.eventId),
    }));
  }

  private body(event: RecordedEvent): string {
    return encodeRelayedEvent(this.publishedForm(event));
  }

  private messageHeaders(event: RecordedEvent, previousEventId: string | undefined): MsgHdrs {
    const h = headers();
    h.set('Nats-Msg-Id', event.eventId);
    if (previousEventId !== undefined) h.set('Nats-Expected-Last-Msg-Id', previousEventId);
    h.set(EVENT_POSITION_HEADER, String(event.globalPosition));
    return h;
  }

  /** Publishes one event and awaits its PubAck. */
  private publish(event: RecordedEvent, previousEventId: string | undefined): Promise<PubAck> {
    const h = headers();
    h.set(EVENT_POSITION_HEADER, String(event.globalPosition));
    return this.js.publish(eventSubject(this.options.subjectPrefix, event), this.body(event), {
      msgID: event.eventId,
      headers: h,
      ...(previousEventId === undefined ? {} : { expect: { lastMsgID: previousEventId } }),
    });
  }

  private acknowledged(event: RecordedEvent, ack: PubAck): void {
    if (ack.stream !== this.options.streamName) {
      throw new Error(
        `relay ${this.options.streamName}: event ${event.eventId} was stored by stream ${ack.stream}`,
      );
    }
    if (ack.duplicate) this.counters.duplicates++;
    else this.counters.published++;
    this.position = event.globalPosition;
  }
}
