import { timeOrderedId } from './time-ordered-id.js';

describe('timeOrderedId: UUID version 7 (RFC 9562 §5.7; issue 9, index locality)', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('is a version 7, variant 10 UUID whose first 48 bits are the Unix time in milliseconds', () => {
    const at = Date.UTC(2026, 10, 26, 4, 41, 5, 123);
    const id = timeOrderedId(at);
    expect(id).toMatch(UUID);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by time, and ids of the same millisecond differ (74 random bits)', () => {
    const times = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_060_000, 1_800_000_000_000];
    const ids = times.map((t) => timeOrderedId(t));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_700_000_000_000)));
    expect(same.size).toBe(10_000);
    for (const id of same) expect(id).toMatch(UUID);
  });
});
