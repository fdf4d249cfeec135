import type { RecordedEvent } from './event-store.js';

/**
 * A projection is a pure fold over events, one row per key (STYLE.md habit 12). The runner owns
 * loading and storing rows and the checkpoint; the projection owns only the logic.
 * - `keyOf` says which row an event touches (null: the event does not concern this projection);
 * - `evolve` is deterministic: no clock, no randomness, no I/O; returning null deletes the row.
 */
export interface Projection<Row = unknown> {
  readonly name: string;
  keyOf(event: RecordedEvent): string | null;
  evolve(row: Row | null, event: RecordedEvent): Row | null;
}
