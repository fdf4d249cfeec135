import type { NewEvent, RecordedEvent } from '#lib/event-store';

/**
 * given(events).when(command).then(expectedEvents) | .thenThrows(errorCode) for any decider of
 * shape decide(command, state) / evolve(state, recordedEvent) (STYLE.md habit 13; after emmett's
 * deciderSpecification). Test-only and pure: the given events are "recorded" in memory with
 * fabricated positions, never written anywhere.
 */
export interface Decider<Command, State> {
  decide(command: Command, state: State): NewEvent[];
  evolve(state: State, event: RecordedEvent): State;
  initialState(): State;
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
  return recordEvents(events).reduce((state, e) => decider.evolve(state, e), decider.initialState());
}

/** What a thrown error is checked against: its OAuth `error` code, and the status when given. */
export interface ExpectedError {
  error: string;
  status?: number;
}

export interface DeciderThen {
  /** The command produced exactly these events (an empty list: nothing happened). */
  then(expected: readonly NewEvent[]): void;
  /** The command was refused with this OAuth error code (and status, when given). */
  thenThrows(expected: string | ExpectedError): void;
}

function outcome(run: () => NewEvent[]): { events: NewEvent[] } | { error: unknown } {
  try {
    return { events: run() };
  } catch (error) {
    return { error };
  }
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
              if ('error' in r) throw new Error(`expected events, but decide threw: ${String(r.error)}`);
              expect(r.events).toEqual(expected);
            },
            thenThrows(expected) {
              const want = typeof expected === 'string' ? { error: expected } : expected;
              const r = result();
              if (!('error' in r)) {
                throw new Error(`expected ${want.error}, but decide returned ${JSON.stringify(r.events)}`);
              }
              const got = r.error as { error?: unknown; status?: unknown };
              expect({
                error: got.error,
                ...(want.status === undefined ? {} : { status: got.status }),
              }).toEqual(want);
            },
          };
        },
      };
    },
  };
}
