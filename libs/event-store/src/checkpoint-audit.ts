import { type Checkpoint, fingerprint } from './checkpoints.js';
import { type ChainedEvent } from './hash-chain.js';

/** A checkpoint accepted (its signature and form checked), and the file or message it came from. */
export interface CheckpointSource {
  file: string;
  checkpoint: Checkpoint;
}

export type CheckpointProblemKind =
  'signature' | 'malformed' | 'name' | 'missing' | 'inconsistent' | 'mismatch';

export interface CheckpointProblem {
  /** The file named; null for a problem of the live chain past the last event. */
  file: string | null;
  kind: CheckpointProblemKind;
  message: string;
}

export interface CheckpointReport {
  /** Files read. */
  files: number;
  /** Checkpoints held against the live chain. */
  checked: number;
  /** Of those, the ones whose signed head hash the live chain still reaches. */
  ok: number;
  /** The first live event that differs from what a checkpoint signed (null: none, or none locatable). */
  firstRewritten: { position: number; eventId: string } | null;
  /** The last live event before it that a checkpoint's fingerprints still vouch for. */
  lastGoodPosition: number | null;
  problems: CheckpointProblem[];
}

interface Seen {
  position: number;
  eventId: string;
  fingerprint: string;
}

/**
 * Holds the live chain, pushed event by event in global order, against signed checkpoints (their
 * signatures already checked): at each checkpoint's position the live hash must be the signed one.
 * On a difference, the interval's fingerprints name the first live event that differs: a recomputed
 * chain keeps every hash before the rewritten event and changes every one from it on.
 * Consecutive checkpoints must link (`previous` is the one before): a link that names a position no
 * file holds is a missing file.
 */
export class CheckpointAuditor {
  private readonly checkpoints: CheckpointSource[];
  private next = 0;
  private interval: Seen[] = [];
  private lastEvent: Seen | null = null;
  private readonly report: CheckpointReport;

  constructor(accepted: readonly CheckpointSource[], files: number, rejected: CheckpointProblem[] = []) {
    this.checkpoints = [...accepted].sort((a, b) => a.checkpoint.position - b.checkpoint.position);
    this.report = {
      files,
      checked: 0,
      ok: 0,
      firstRewritten: null,
      lastGoodPosition: null,
      problems: [...rejected],
    };
    this.checkLinks();
  }

  push(event: ChainedEvent): void {
    while (this.current && event.globalPosition > this.current.checkpoint.position) {
      this.settle(null);
    }
    const current = this.current;
    const seen = {
      position: event.globalPosition,
      eventId: event.eventId,
      fingerprint: event.hash === null ? '' : fingerprint(event.hash),
    };
    this.lastEvent = seen;
    if (!current || event.globalPosition <= this.startOf(current.checkpoint)) return;
    if (event.hash === null) return;
    this.interval.push(seen);
    if (event.globalPosition === current.checkpoint.position) this.settle(event.hash);
  }

  /** The report, once every event was pushed: checkpoints past the live head fail. */
  result(): CheckpointReport {
    while (this.current) this.settle(null);
    return { ...this.report, problems: [...this.report.problems] };
  }

  get ok(): boolean {
    return this.report.problems.length === 0;
  }

  private get current(): CheckpointSource | undefined {
    return this.checkpoints[this.next];
  }

  private startOf(c: Checkpoint): number {
    return c.previous?.position ?? 0;
  }

  private checkLinks(): void {
    for (let i = 1; i < this.checkpoints.length; i++) {
      const before = this.checkpoints[i - 1]!;
      const { file, checkpoint } = this.checkpoints[i]!;
      const previous = checkpoint.previous;
      if (previous === null) {
        this.problem(
          file,
          'inconsistent',
          `starts a new series after the checkpoint at ${before.checkpoint.position}`,
        );
      } else if (previous.position > before.checkpoint.position) {
        this.problem(
          file,
          'missing',
          `follows a checkpoint at position ${previous.position} that no file holds ` +
            `(checkpoint file(s) missing between positions ${before.checkpoint.position} and ${checkpoint.position})`,
        );
      } else if (previous.position < before.checkpoint.position) {
        this.problem(
          file,
          'inconsistent',
          `follows position ${previous.position}, but ${before.file} covers up to ${before.checkpoint.position}`,
        );
      } else if (previous.hash !== before.checkpoint.hash) {
        this.problem(
          file,
          'inconsistent',
          `names another hash at position ${previous.position} than ${before.file}`,
        );
      }
    }
  }

  private settle(liveHash: string | null): void {
    const { file, checkpoint } = this.current!;
    this.next++;
    const interval = this.interval;
    this.interval = [];
    this.report.checked++;
    if (liveHash === checkpoint.hash) {
      this.report.ok++;
      return;
    }
    const at =
      liveHash === null
        ? this.lastEvent === null || this.lastEvent.position < checkpoint.position
          ? `the live chain ends at position ${this.lastEvent?.position ?? 0}, before it`
          : 'no live event has that position'
        : 'the live hash there differs from the signed one';
    const { differs, lastGood } = locate(checkpoint, interval);
    const counted =
      interval.length === checkpoint.count
        ? ''
        : interval.length < checkpoint.count
          ? `; the interval holds ${checkpoint.count - interval.length} event(s) fewer than signed`
          : `; the interval holds ${interval.length - checkpoint.count} event(s) more than signed`;
    const where = differs
      ? `; first rewritten event: position ${differs.position} (${differs.eventId})`
      : lastGood !== null
        ? `; events removed after position ${lastGood}`
        : '';
    this.problem(file, 'mismatch', `checkpoint at position ${checkpoint.position}: ${at}${counted}${where}`);
    if (this.report.firstRewritten === null && this.report.lastGoodPosition === null) {
      this.report.firstRewritten = differs ? { position: differs.position, eventId: differs.eventId } : null;
      this.report.lastGoodPosition = lastGood;
    }
  }

  private problem(file: string | null, kind: CheckpointProblemKind, message: string): void {
    this.report.problems.push({ file, kind, message });
  }
}

/** The first live event of the interval whose fingerprint is not the signed one, and the last one before it that is. */
function locate(
  checkpoint: Checkpoint,
  interval: readonly Seen[],
): { differs: Seen | null; lastGood: number | null } {
  let lastGood = checkpoint.previous?.position ?? null;
  for (let i = 0; i < interval.length; i++) {
    const live = interval[i]!;
    if (checkpoint.fingerprints[i] !== live.fingerprint) return { differs: live, lastGood };
    lastGood = live.position;
  }
  return { differs: null, lastGood };
}
