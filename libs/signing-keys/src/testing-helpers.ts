import assert from 'node:assert/strict';
import type { Decision } from '#lib/decider';
import type { NewEvent, RecordedEvent } from '#lib/event-store';

/**
 * given(events).when(command).then(events) | .thenThrows(ErrorType) for any decider (STYLE.md habit 13).
 * Test-only; uses node:assert so it carries no test-runner types.
 */
export interface Decider<Command, State, Event extends NewEvent> {
  /** A Decision's refusal is thrown, for thenThrows to see. */
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

export function deciderSpec<Command, State, Event extends NewEvent>(decider: Decider<Command, State, Event>) {
  return {
    given(events: readonly NewEvent[]) {
      return {
        when(command: Command) {
          const run = () => {
            const result = decider.decide(command, fold(decider, events));
            if (Array.isArray(result)) return result;
            if (result.refusal !== null) throw result.refusal;
            return result.events;
          };
          return {
            then(expected: readonly NewEvent[]): void {
              assert.deepStrictEqual(run(), expected);
            },
            thenThrows<E extends Error>(
              errorType: abstract new (...args: never[]) => E,
              check?: (error: E) => void,
            ): void {
              let thrown: unknown;
              try {
                run();
              } catch (err) {
                thrown = err;
              }
              assert.ok(thrown !== undefined, `expected ${errorType.name}, but decide returned events`);
              assert.ok(thrown instanceof errorType, `expected ${errorType.name}, got ${String(thrown)}`);
              check?.(thrown);
            },
          };
        },
      };
    },
  };
}
