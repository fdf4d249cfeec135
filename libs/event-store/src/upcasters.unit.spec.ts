import { foldEvents, type StreamFold, type Upcaster, UpcasterRegistry } from './upcasters.js';
import type { RecordedEvent } from './event-store.js';

const recorded = (type: string, schemaVersion: number, data: unknown, streamVersion = 1): RecordedEvent => ({
  eventId: `e-${streamVersion}`,
  globalPosition: streamVersion,
  streamId: 's-1',
  streamVersion,
  type,
  schemaVersion,
  data,
  metadata: {},
  recordedAt: new Date('2030-01-01T00:00:00.000Z'),
});

// Version 1 held `name`; version 2 splits it; version 3 renames `given` to `first`.
const upcasters: Upcaster[] = [
  {
    type: 'Named',
    fromSchemaVersion: 1,
    upcast: (e) => {
      const [given, family] = (e.data as { name: string }).name.split(' ');
      return { ...e, data: { given, family } };
    },
  },
  {
    type: 'Named',
    fromSchemaVersion: 2,
    upcast: (e) => {
      const { given, family } = e.data as { given: string; family: string };
      return { ...e, data: { first: given, family } };
    },
  },
];

describe('UpcasterRegistry', () => {
  const registry = new UpcasterRegistry(upcasters);

  it('brings an old event to the current shape one version at a time', () => {
    expect(registry.upcast(recorded('Named', 1, { name: 'Ada Lovelace' }))).toEqual(
      recorded('Named', 3, { first: 'Ada', family: 'Lovelace' }),
    );
    expect(registry.upcast(recorded('Named', 2, { given: 'Ada', family: 'Lovelace' }))).toEqual(
      recorded('Named', 3, { first: 'Ada', family: 'Lovelace' }),
    );
  });

  it('leaves an event in the current shape, and events of other types, as they are', () => {
    const current = recorded('Named', 3, { first: 'Ada', family: 'Lovelace' });
    expect(registry.upcast(current)).toBe(current);
    const other = recorded('Other', 1, { name: 'Ada Lovelace' });
    expect(registry.upcast(other)).toBe(other);
  });

  it('refuses two upcasters for the same type and version', () => {
    expect(() => new UpcasterRegistry([upcasters[0]!, upcasters[0]!])).toThrow(/two upcasters for Named/);
  });
});

describe('foldEvents', () => {
  const fold: StreamFold<string[]> = {
    initial: () => [],
    evolve: (names, e) => {
      const data = e.data as { first?: unknown; family?: unknown };
      if (e.schemaVersion !== 3 || typeof data.first !== 'string') throw new Error('evolve saw an old shape');
      return [...names, `${data.first} ${String(data.family)}`];
    },
    upcasters,
  };

  it('folds an old-shape event like its current shape', () => {
    const old = [recorded('Named', 1, { name: 'Ada Lovelace' })];
    const current = [recorded('Named', 3, { first: 'Ada', family: 'Lovelace' })];
    expect(foldEvents(fold, old)).toEqual(foldEvents(fold, current));
    expect(foldEvents(fold, old)).toEqual(['Ada Lovelace']);
  });

  it('continues from a given state', () => {
    expect(
      foldEvents(fold, [recorded('Named', 2, { given: 'Alan', family: 'Turing' }, 2)], ['Ada Lovelace']),
    ).toEqual(['Ada Lovelace', 'Alan Turing']);
  });
});
