import { foldEvents, type NewEvent, type RecordedEvent, type Upcaster } from '#lib/event-store';
import type { Decision } from '#lib/decider';

/**
 * given(events).when(command).then(expectedEvents) | .thenRefuses(errorCode) for any decider of
 * shape decide(command, state) / evolve(state, recordedEvent) (STYLE.md habit 13; after emmett's
 * deciderSpecification). Test-only and pure: the given events are "recorded" in memory with
 * fabricated positions, never written anywhere. A decider returns a Decision (a refusal as data);
 * one that still returns bare events refuses by throwing, which thenRefuses accepts alike.
 */
export interface Decider<Command, State> {
  decide(command: Command, state: State): Decision<unknown> | NewEvent[];
  // Method syntax: an evolve typed by its aggregate's events fits.
  evolve(state: State, event: RecordedEvent): State;
  initialState(): State;
  /** Upcasters applied to the given events before evolve, as a read for folding does. */
  upcasters?: readonly Upcaster[];
}

export interface RecordOptions {
  streamId?: string;
  /** Global position of the first event; the following ones count up from it. Default 1. */
  firstGlobalPosition?: number;
  /** Stream version of the first event. Default 1. */
  firstStreamVersion?: number;
  recordedAt?: Date;
}

/**
 * Records events as a store would: stream versions 1, 2, 3, …, global positions counting up, a
 * fixed recordedAt and a deterministic eventId, so that folds and projections are reproducible.
 */
export function recordEvents(events: readonly NewEvent[], options: RecordOptions = {}): RecordedEvent[] {
  const streamId = options.streamId ?? 'test-stream';
  const firstPosition = options.firstGlobalPosition ?? 1;
  const firstVersion = options.firstStreamVersion ?? 1;
  const recordedAt = options.recordedAt ?? new Date('2030-01-01T00:00:00.000Z');
  return events.map((e, i) => ({
    eventId: `00000000-0000-4000-8000-${String(firstPosition + i).padStart(12, '0')}`,
    globalPosition: firstPosition + i,
    streamId,
    streamVersion: firstVersion + i,
    type: e.type,
    schemaVersion: e.schemaVersion ?? 1,
    data: e.data,
    metadata: e.metadata ?? {},
    recordedAt: new Date(recordedAt.getTime()),
  }));
}

/** The state after replaying the events from the decider's initial state. */
export function stateAfter<Command, State>(
  decider: Decider<Command, State>,
  events: readonly NewEvent[],
): State {
  return foldEvents(
    {
      evolve: (s: State, e) => decider.evolve(s, e),
      initial: decider.initialState,
      upcasters: decider.upcasters,
    },
    recordEvents(events),
  );
}

/** What a thrown error is checked against: its OAuth `error` code, and the status when given. */
export interface ExpectedError {
  error: string;
  status?: number;
}

export interface DeciderThen {
  /** The command produced exactly these events (an empty list: nothing happened). */
  then(expected: readonly NewEvent[]): void;
  /**
   * The command was refused with this OAuth error code (and status, when given), or with an error
   * of this class (then `check` looks at it); no event is recorded with the refusal.
   */
  thenRefuses<E extends Error>(
    expected: string | ExpectedError | (abstract new (...args: never[]) => E),
    check?: (error: E) => void,
  ): void;
  /** The command was refused, and these events are recorded with the refusal. */
  thenRecordsAndRefuses(events: readonly NewEvent[], expected: string | ExpectedError): void;
  /** thenRefuses, for deciders that still throw their refusals. */
  thenThrows(expected: string | ExpectedError): void;
}

type Outcome = { events: NewEvent[]; error?: undefined } | { events: NewEvent[]; error: unknown };

function outcome(run: () => Decision<unknown> | NewEvent[]): Outcome {
  try {
    const result = run();
    if (Array.isArray(result)) return { events: result };
    return result.refusal === null
      ? { events: result.events }
      : { events: result.events, error: result.refusal };
  } catch (error) {
    return { events: [], error };
  }
}

function expectRefusal(r: Outcome, expected: string | ExpectedError): void {
  const want = typeof expected === 'string' ? { error: expected } : expected;
  if (!('error' in r) || r.error === undefined) {
    throw new Error(`expected ${want.error}, but decide returned ${JSON.stringify(r.events)}`);
  }
  const got = r.error as { error?: unknown; status?: unknown };
  expect({
    error: got.error,
    ...(want.status === undefined ? {} : { status: got.status }),
  }).toEqual(want);
}

export function deciderSpecification<Command, State>(decider: Decider<Command, State>) {
  return {
    given(events: readonly NewEvent[] = []) {
      return {
        when(command: Command): DeciderThen {
          const result = () => outcome(() => decider.decide(command, stateAfter(decider, events)));
          return {
            then(expected) {
              const r = result();
              if (r.error !== undefined)
                throw new Error(`expected events, but decide refused: ${String(r.error)}`);
              expect(r.events).toEqual(expected);
            },
            thenRefuses(expected, check) {
              const r = result();
              if (typeof expected === 'function') {
                if (r.error === undefined) {
                  throw new Error(
                    `expected ${expected.name}, but decide returned ${JSON.stringify(r.events)}`,
                  );
                }
                expect(r.error).toBeInstanceOf(expected);
                check?.(r.error as never);
              } else {
                expectRefusal(r, expected);
              }
              expect(r.events).toEqual([]);
            },
            thenRecordsAndRefuses(events, expected) {
              const r = result();
              expectRefusal(r, expected);
              expect(r.events).toEqual(events);
            },
            thenThrows(expected) {
              expectRefusal(result(), expected);
            },
          };
        },
      };
    },
  };
}
