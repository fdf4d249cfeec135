import type { OAuthError } from '#lib/oauth-errors';
import type { NewEvent, RecordedEvent } from '#lib/event-store';

/**
 * The one shape of every aggregate (STYLE.md habit 1): `decide` turns a command and the current
 * state into a Decision, `evolve` folds one recorded event into the state, `initialState` is the
 * state of a stream with no event. Both are pure: time and generated values come in the command.
 */

/**
 * What a command leads to: the events to append and, when the command is refused, why. A refusal is
 * data, not a throw, and may come with events to record all the same (a replayed authorization
 * code is recorded, then refused: RFC 9700 §4.2).
 */
export interface Decision<Refusal = OAuthError> {
  events: NewEvent[];
  refusal: Refusal | null;
}

/** An event as `evolve` sees it: recorded, with the data of its type (a union stays a union). */
export type Recorded<Event extends { type: string; data: unknown }> = Event extends unknown
  ? RecordedEvent<Event['type'], Event['data']>
  : never;

export interface Decider<
  Command,
  Event extends { type: string; data: unknown },
  State,
  Refusal = OAuthError,
> {
  decide(command: Command, state: State): Decision<Refusal>;
  evolve(state: State, event: Recorded<Event>): State;
  initialState(): State;
}

/** The command is accepted: these events (none: nothing to do). */
export const accept = <Refusal = OAuthError>(events: NewEvent[]): Decision<Refusal> => ({
  events,
  refusal: null,
});

/** The command is refused; `events` are recorded all the same. */
export const refuse = <Refusal>(refusal: Refusal, events: NewEvent[] = []): Decision<Refusal> => ({
  events,
  refusal,
});

/**
 * The events of a decision whose refusals carry no events, or its refusal thrown: for a caller
 * whose one error path is a throw (a handler answering with the refusal).
 */
export function eventsOrThrow<Refusal>(decision: Decision<Refusal>): NewEvent[] {
  if (decision.refusal === null) return decision.events;
  if (decision.events.length > 0) throw new Error('a refusal that records events must not be thrown');
  throw decision.refusal;
}
