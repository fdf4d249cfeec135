import { type AppendResult, type StreamExpectation } from './event-store.js';
import { type PreparedAppend } from './prepare-append.js';

export interface GroupCommitStats {
  /** Append transactions committed. */
  batchesCommitted: number;
  /** appendToStream / appendMany calls settled by those transactions, conflicts included. */
  appendsCommitted: number;
  lastBatchAppends: number;
  averageBatchAppends: number;
  /** Batches whose single insert failed and that were redone one append per savepoint. */
  fallbackBatches: number;
}

/** One appendToStream / appendMany call waiting for its batch. */
export interface AppendJob {
  appends: PreparedAppend[];
  /** appendMany's preconditions, checked before the job's own appends. */
  expect: StreamExpectation[];
  resolve(results: AppendResult[]): void;
  reject(err: unknown): void;
}

/** What a committed batch gave one job: its results, or the error that job alone failed with. */
export type AppendOutcome = AppendResult[] | Error;

export interface BatchWritten {
  outcomes: Map<AppendJob, AppendOutcome>;
  /** The batch was redone one append per savepoint after its single insert failed. */
  fellBack: boolean;
}

/**
 * Writes a batch of jobs in one transaction and gives each job's outcome once it committed; throws
 * when the transaction failed (every job of the batch then fails with that error).
 */
export type BatchWriter = (jobs: AppendJob[]) => Promise<BatchWritten>;

/**
 * Group commit: concurrent appends queue while a batch is being written, then up to `maxBatchSize`
 * of them (counted in appends; a job is never split) go to the writer together, in queue order.
 * Each job's promise settles only after its batch's transaction ended.
 */
export class GroupCommit {
  private queue: AppendJob[] = [];
  private flushing: Promise<void> | null = null;
  private readonly counters = { batches: 0, appends: 0, last: 0, fallbacks: 0 };

  constructor(
    private readonly maxBatchSize: number,
    private readonly write: BatchWriter,
  ) {}

  enqueue(appends: PreparedAppend[], expect: StreamExpectation[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ appends, expect, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Resolves once every job queued so far has settled. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  stats(): GroupCommitStats {
    const { batches, appends, last, fallbacks } = this.counters;
    return {
      batchesCommitted: batches,
      appendsCommitted: appends,
      lastBatchAppends: last,
      averageBatchAppends: batches === 0 ? 0 : appends / batches,
      fallbackBatches: fallbacks,
    };
  }

  private async flush(): Promise<void> {
    // Lets every append issued in the same tick join the first batch.
    await Promise.resolve();
    try {
      while (this.queue.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.flushing = null;
    }
  }

  private takeBatch(): AppendJob[] {
    let appends = 0;
    let n = 0;
    while (
      n < this.queue.length &&
      (n === 0 || appends + this.queue[n]!.appends.length <= this.maxBatchSize)
    ) {
      appends += this.queue[n]!.appends.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Settles every job of the batch; never throws. */
  private async writeBatch(jobs: AppendJob[]): Promise<void> {
    let written: BatchWritten;
    try {
      written = await this.write(jobs);
    } catch (err) {
      for (const job of jobs) job.reject(err);
      return;
    }
    if (written.fellBack) this.counters.fallbacks++;
    this.counters.batches++;
    this.counters.appends += jobs.length;
    this.counters.last = jobs.length;
    for (const job of jobs) {
      const outcome = written.outcomes.get(job)!;
      if (outcome instanceof Error) job.reject(outcome);
      else job.resolve(outcome);
    }
  }
}
