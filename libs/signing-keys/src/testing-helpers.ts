import type { Decision } from '#lib/decider';
import type { NewEvent, RecordedEvent } from '#lib/event-store';

/**
 * Folding helpers for the keyring's tests (the given/when/then helper is libs/testing's
 * deciderSpecification). Test-only.
 */
export interface Decider<Command, State, Event extends NewEvent> {
  decide(command: Command, state: State): Event[] | Decision<unknown>;
  evolve(state: State, event: RecordedEvent): State;
  initialState(): State;
}

/** Records events as a store would: versions 1, 2, … and a fixed recordedAt, so folds are deterministic. */
export function recorded(events: readonly NewEvent[], streamId = 'test-stream'): RecordedEvent[] {
  return events.map((e, i) => ({
    eventId: `${streamId}-${i + 1}`,
    globalPosition: i + 1,
    streamId,
    streamVersion: i + 1,
    type: e.type,
    schemaVersion: e.schemaVersion ?? 1,
    data: e.data,
    metadata: e.metadata ?? {},
    recordedAt: new Date(0),
  }));
}

export function fold<Command, State, Event extends NewEvent>(
  decider: Decider<Command, State, Event>,
  events: readonly NewEvent[],
): State {
  return recorded(events).reduce(decider.evolve, decider.initialState());
}
