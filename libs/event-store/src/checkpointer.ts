import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
} from '@nats-io/jetstream';
import { type NatsConnection } from '@nats-io/transport-node';
import { type DataSource } from 'typeorm';
import {
  type ChainPoint,
  type Checkpoint,
  CHECKPOINT_FILE,
  ChainDoesNotContinueError,
  CheckpointBuilder,
  checkpointFileName,
  CheckpointRejectedError,
  type CheckpointSigningKey,
  type CheckpointVerificationKey,
  readCheckpoint,
  signCheckpoint,
} from './checkpoints.js';
import { writeFileAtomically } from './atomic-file.js';
import { type CheckpointProblem, type CheckpointSource } from './checkpoint-audit.js';
import { type EventStore } from './event-store.js';
import { Alarm, consoleLogger, type RunnerLogger } from './loop.js';
import { RelayLeader } from './relay-leader.js';

/** Where checkpoints go, and where the last one is read back from (never from Postgres). */
export interface CheckpointSink {
  readonly name: string;
  /** The last checkpoint held, its signature checked; null when none. */
  last(): Promise<Checkpoint | null>;
  write(checkpoint: Checkpoint, jws: string): Promise<void>;
}

/**
 * A directory the operator mounts (outside Postgres): one file per checkpoint, named by its
 * zero-padded position, written to a temporary file and renamed, so a reader never sees half a file.
 */
export class DirectoryCheckpointSink implements CheckpointSink {
  constructor(
    readonly dir: string,
    private readonly key: CheckpointVerificationKey,
  ) {}

  get name(): string {
    return `directory ${this.dir}`;
  }

  async last(): Promise<Checkpoint | null> {
    const files = (await readdir(this.dir).catch(() => [] as string[]))
      .filter((f) => CHECKPOINT_FILE.test(f))
      .sort();
    const file = files.at(-1);
    if (file === undefined) return null;
    try {
      return await readCheckpoint(await readFile(join(this.dir, file), 'utf8'), this.key);
    } catch (err) {
      throw new Error(
        `the last checkpoint file ${join(this.dir, file)} is refused: ${(err as Error).message}`,
      );
    }
  }

  async write(checkpoint: Checkpoint, jws: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomically(this.dir, checkpointFileName(checkpoint.position), `${jws}\n`, 0o644);
  }
}

/**
 * A JetStream stream of its own (file storage), one message per checkpoint on one subject,
 * Nats-Msg-Id `checkpoint-<position>` so that a checkpoint published twice is kept once.
 */
export class JetStreamCheckpointSink implements CheckpointSink {
  constructor(
    private readonly nc: NatsConnection,
    readonly stream: string,
    readonly subject: string,
    private readonly key: CheckpointVerificationKey,
  ) {}

  get name(): string {
    return `JetStream ${this.stream}`;
  }

  async ensureStream(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      const info = await jsm.streams.info(this.stream);
      if (JSON.stringify(info.config.subjects) !== JSON.stringify([this.subject])) {
        await jsm.streams.update(this.stream, { subjects: [this.subject] });
      }
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await jsm.streams.add({ name: this.stream, subjects: [this.subject], storage: StorageType.File });
    }
  }

  async last(): Promise<Checkpoint | null> {
    const jsm = await jetstreamManager(this.nc);
    let message;
    try {
      message = await jsm.streams.getMessage(this.stream, { last_by_subj: this.subject });
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      // Not created at start (NATS was not ready) or removed: made now, and it holds nothing yet.
      await this.ensureStream();
      return null;
    }
    if (message === null) return null;
    try {
      return await readCheckpoint(message.string(), this.key);
    } catch (err) {
      throw new Error(`the last checkpoint of ${this.stream} is refused: ${(err as Error).message}`);
    }
  }

  async write(checkpoint: Checkpoint, jws: string): Promise<void> {
    await jetstream(this.nc).publish(this.subject, jws, { msgID: `checkpoint-${checkpoint.position}` });
  }
}

/** A checkpoint written, without its fingerprints. */
export type CheckpointWritten = Omit<Checkpoint, 'fingerprints'>;

/**
 * The checkpoint files of a directory (`<20-digit position>.jws`; other names are left alone), each
 * one's signature checked against `key`: the accepted ones, and a problem naming each refused file.
 */
export async function readCheckpointDirectory(
  dir: string,
  key: CheckpointVerificationKey,
): Promise<{ files: number; accepted: CheckpointSource[]; rejected: CheckpointProblem[] }> {
  const names = (await readdir(dir)).filter((f) => CHECKPOINT_FILE.test(f)).sort();
  const accepted: CheckpointSource[] = [];
  const rejected: CheckpointProblem[] = [];
  for (const file of names) {
    try {
      const checkpoint = await readCheckpoint(await readFile(join(dir, file), 'utf8'), key);
      if (checkpointFileName(checkpoint.position) !== file) {
        rejected.push({
          file,
          kind: 'name',
          message: `holds the checkpoint of position ${checkpoint.position}`,
        });
      } else {
        accepted.push({ file, checkpoint });
      }
    } catch (err) {
      if (!(err instanceof CheckpointRejectedError)) throw err;
      rejected.push({ file, kind: err.kind, message: err.message });
    }
  }
  return { files: names.length, accepted, rejected };
}

/** First key of the advisory lock that serializes checkpoint writers (the service's leader, the CLI). */
const CHECKPOINT_LOCK_CLASS = 42_017_793;

export interface ChainCheckpointerOptions {
  key: CheckpointSigningKey;
  sinks: readonly CheckpointSink[];
  clock: () => Date;
  /** Events read at a time (default 1000). */
  pageSize?: number;
  /** Events one checkpoint covers at most (default MAX_CHECKPOINT_EVENTS). */
  maxEvents?: number;
  logger?: RunnerLogger;
  /** Told of every checkpoint written (metrics). */
  onCheckpoint?: (checkpoint: Checkpoint) => void;
}

/**
 * Signs the chain head at an interval (docs/events.md "Checkpoints"). Each pass reads the last
 * checkpoint back from the sinks (the latest of them), checks every event after it links on from
 * the signed hash, and signs a checkpoint of the new head when it moved: a chain recomputed since
 * is refused (ChainDoesNotContinueError), never signed. One writer at a time: a pass holds an
 * advisory lock; the loop of start() runs on the replica that holds the leader lock.
 */
export class ChainCheckpointer {
  private readonly leader: RelayLeader;
  private readonly logger: RunnerLogger;
  private readonly alarm = new Alarm();
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: Pick<EventStore, 'readAll'>,
    private readonly options: ChainCheckpointerOptions,
  ) {
    this.leader = new RelayLeader(dataSource, 'audit-checkpoints', 'audit-checkpoints');
    this.logger = options.logger ?? consoleLogger;
  }

  /** Writes the checkpoints of the events after the last one (none when the head has not moved). */
  async checkpointNow(): Promise<CheckpointWritten[]> {
    const qr = this.dataSource.createQueryRunner();
    try {
      await qr.query(`SELECT pg_advisory_lock($1::int, hashtext('audit-checkpoints:write'))`, [
        CHECKPOINT_LOCK_CLASS,
      ]);
      try {
        return await this.pass();
      } finally {
        await qr.query(`SELECT pg_advisory_unlock($1::int, hashtext('audit-checkpoints:write'))`, [
          CHECKPOINT_LOCK_CLASS,
        ]);
      }
    } finally {
      await qr.release();
    }
  }

  /** Checkpoints every `intervalMs` while this replica leads, until stop(); errors are logged. */
  start(intervalMs: number): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          if ((await this.leader.take()) !== null) await this.checkpointNow();
        } catch (err) {
          this.logger.error('audit checkpoint failed', err);
          await this.leader.stepDown();
        }
        if (this.running) await this.alarm.pause(intervalMs, { ignoreRings: true });
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.alarm.interrupt();
    await this.loop;
    this.loop = null;
    await this.leader.stepDown();
  }

  private async previous(): Promise<ChainPoint | null> {
    let latest: Checkpoint | null = null;
    for (const sink of this.options.sinks) {
      const last = await sink.last();
      if (last && (latest === null || last.position > latest.position)) latest = last;
    }
    return latest && { position: latest.position, hash: latest.hash };
  }

  private async pass(): Promise<CheckpointWritten[]> {
    const previous = await this.previous();
    if (previous) await this.checkAnchor(previous);
    const builder = new CheckpointBuilder(previous, this.options.maxEvents);
    const pageSize = this.options.pageSize ?? 1000;
    const written: CheckpointWritten[] = [];
    let after = builder.after;
    for (;;) {
      const page = await this.store.readAll(after, pageSize);
      for (const event of page)
        builder.push({ ...event, prevHash: event.prevHash ?? null, hash: event.hash ?? null });
      const last = page.at(-1);
      if (last) after = last.globalPosition;
      const done = page.length < pageSize;
      for (const checkpoint of builder.checkpoints(this.options.clock(), { partial: done })) {
        await this.write(checkpoint);
        const { fingerprints: _, ...summary } = checkpoint;
        written.push(summary);
      }
      if (done) return written;
    }
  }

  /** The live event at the last checkpoint's position still has the signed hash (checked at every pass, head moved or not). */
  private async checkAnchor(previous: ChainPoint): Promise<void> {
    const [event] = await this.store.readAll(previous.position - 1, 1);
    if (event?.globalPosition !== previous.position) {
      throw new ChainDoesNotContinueError(
        previous.position,
        event?.eventId ?? 'none',
        'no live event has the position of the last checkpoint',
      );
    }
    if (event.hash !== previous.hash) {
      throw new ChainDoesNotContinueError(
        previous.position,
        event.eventId,
        'its live hash is not the one the last checkpoint signed: the chain was rewritten',
      );
    }
  }

  private async write(checkpoint: Checkpoint): Promise<void> {
    const jws = await signCheckpoint(checkpoint, this.options.key);
    const failures: string[] = [];
    for (const sink of this.options.sinks) {
      try {
        await sink.write(checkpoint, jws);
      } catch (err) {
        failures.push(`${sink.name}: ${(err as Error).message}`);
      }
    }
    if (failures.length === this.options.sinks.length) {
      throw new Error(`checkpoint at position ${checkpoint.position} not written: ${failures.join('; ')}`);
    }
    for (const failure of failures) {
      this.logger.error(`checkpoint at position ${checkpoint.position} not written to ${failure}`);
    }
    this.options.onCheckpoint?.(checkpoint);
  }
}
