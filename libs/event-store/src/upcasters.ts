import type { RecordedEvent } from './event-store.js';

/**
 * Upcasting on read: an event type whose schema changed keeps its old events as they were written
 * (events are never updated), and each is brought to the current shape when read for folding, so
 * that `evolve` only ever sees the current shape.
 */

/** Turns an event of `type` at `fromSchemaVersion` into the next version's shape. */
export interface Upcaster {
  type: string;
  fromSchemaVersion: number;
  /** The event in the shape of `fromSchemaVersion + 1` (its schemaVersion is set by the registry). */
  upcast(event: RecordedEvent): RecordedEvent;
}

/** Upcasters keyed by event type and schema version, applied one version step at a time. */
export class UpcasterRegistry {
  private readonly byKey = new Map<string, Upcaster>();

  constructor(upcasters: readonly Upcaster[] = []) {
    for (const u of upcasters) {
      const key = keyOf(u.type, u.fromSchemaVersion);
      if (this.byKey.has(key)) throw new Error(`two upcasters for ${u.type} version ${u.fromSchemaVersion}`);
      this.byKey.set(key, u);
    }
  }

  /** The event in its current shape: the same object when no upcaster applies. */
  upcast(event: RecordedEvent): RecordedEvent {
    let current = event;
    for (;;) {
      const u = this.byKey.get(keyOf(current.type, current.schemaVersion));
      if (u === undefined) return current;
      current = { ...u.upcast(current), schemaVersion: current.schemaVersion + 1 };
    }
  }
}

const keyOf = (type: string, version: number) => `${type}\u0000${version}`;

/**
 * How a stream is folded: its evolve, its initial state, and the upcasters its events need (data,
 * so that a domain lib declares them without loading the store).
 */
export interface StreamFold<State> {
  // Method syntax: an evolve typed by its aggregate's events fits; the events reaching it are those
  // of the aggregate's streams, upcast to their current shape.
  evolve(state: State, event: RecordedEvent): State;
  initial: () => State;
  upcasters?: readonly Upcaster[];
}

const registries = new WeakMap<readonly Upcaster[], UpcasterRegistry>();

function registryOf(upcasters: readonly Upcaster[]): UpcasterRegistry {
  let registry = registries.get(upcasters);
  if (registry === undefined) registries.set(upcasters, (registry = new UpcasterRegistry(upcasters)));
  return registry;
}

/** The state after `events` (upcast first), from `from` (default: the initial state). */
export function foldEvents<State>(
  fold: StreamFold<State>,
  events: readonly RecordedEvent[],
  from: State = fold.initial(),
): State {
  const registry = fold.upcasters === undefined ? null : registryOf(fold.upcasters);
  let state = from;
  for (const e of events) state = fold.evolve(state, registry === null ? e : registry.upcast(e));
  return state;
}
