import type { RecordedEvent } from './event-store.js';

/**
 * A projection is a pure fold over events, one row per key (STYLE.md habit 12). The runner owns
 * loading and storing rows and the checkpoint; the projection owns only the logic.
 * - `keyOf` says which row an event touches (null: the event does not concern this projection);
 * - `evolve` is deterministic: no clock, no randomness, no I/O; returning null deletes the row;
 * - `expiresAt` (optional) bounds the read model: the instant (ms since the epoch) from which the
 *   row is dropped by the runner, computed from the row alone. A row's expiry must be final (an
 *   event that comes after it never revives the row: evolve(null, later event) stays null), so that
 *   the rows at position P and instant T are the fold of the events up to P minus the rows expired at
 *   T, whatever the moments pruning ran: live and rebuilt projections compare equal at the same T.
 */
export interface Projection<Row = unknown> {
  readonly name: string;
  /**
   * The event types `keyOf` can accept (optional). When every projection of a runner lists them,
   * the runner reads only those types from the store (EventStore.readAllOfTypes) and moves its
   * checkpoints past the others unread; `keyOf` must return null for any type not listed.
   */
  readonly eventTypes?: readonly string[];
  keyOf(event: RecordedEvent): string | null;
  /**
   * True when no earlier event can have the key `keyOf(event)` gives (optional): the event starts its
   * row (e.g. the first event of a stream whose id the key is taken from), so the runner folds it
   * over no row without looking one up. A stored row at or past the event's position is left as it is.
   */
  startsRow?(event: RecordedEvent): boolean;
  evolve(row: Row | null, event: RecordedEvent): Row | null;
  expiresAt?(row: Row): number | null;
}
