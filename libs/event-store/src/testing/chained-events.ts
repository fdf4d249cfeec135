import { eventHash, GENESIS_HASH, type ChainedEvent } from '../hash-chain.js';

/**
 * `n` events chained from the genesis hash as the append path chains them (hash-chain.ts), one a
 * second from 2026-01-01; `streamOf` places event i in a stream at a version.
 */
export function chainedEvents(
  n: number,
  streamOf: (i: number) => { streamId: string; streamVersion: number },
): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const base = {
      globalPosition: i + 1,
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      ...streamOf(i),
      type: 'T',
      schemaVersion: 1,
      data: { i },
      metadata: {},
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    };
    const hash = eventHash(prev, base);
    events.push({ ...base, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}
