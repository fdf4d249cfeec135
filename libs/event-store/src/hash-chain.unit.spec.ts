import { canonicalJson, eventHash, GENESIS_HASH, verifyChain, type ChainedEvent } from './hash-chain.js';

function chain(n: number, legacy = 0): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < legacy + n; i++) {
    const base = {
      globalPosition: i * 2 + 1,
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      streamId: `token-${i % 3}`,
      streamVersion: Math.floor(i / 3) + 1,
      type: 'AccessTokenIssued',
      schemaVersion: 1,
      data: { i, nested: { b: 1, a: [i] } },
      metadata: { actor: 'client:c' },
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    };
    if (i < legacy) {
      events.push({ ...base, prevHash: null, hash: null });
      continue;
    }
    const hash = eventHash(prev, base);
    events.push({ ...base, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}

describe('hash chain (tamper-evident log)', () => {
  it('encodes objects canonically whatever their key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: 'é' } })).toBe(
      canonicalJson({ a: { c: 'é', d: [1, { x: 2, y: 1 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: null })).toBe('{"a":null,"b":1}');
  });

  it('keeps the hash of a recorded event: chains written by earlier releases still verify', () => {
    const event = {
      globalPosition: 42,
      eventId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      streamId: 'access-token-x',
      streamVersion: 1,
      type: 'AccessTokenIssued',
      schemaVersion: 1,
      data: {
        jti: 'x',
        clientId: 'c',
        zeta: [3, { b: 'é\u2028"\\', a: null }],
        aud: ['https://api.example'],
        n: -0,
        u: undefined,
      },
      metadata: { actor: 'client:c' },
      recordedAt: new Date('2026-11-26T06:00:00.123Z'),
    };
    expect(eventHash(GENESIS_HASH, event)).toBe(
      '21a997b354e4ced95c771f9e7c8f4fd3c1736175cc4b780ec909ddef5dda24ee',
    );
  });

  it('encodes any JSON value as its definition does: keys sorted by UTF-16 code units, undefined members left out', () => {
    // The definition (docs/events.md "Hash chain"), written plainly; canonicalJson is the fast form.
    const definition = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      if (Array.isArray(value)) return `[${value.map((v) => definition(v ?? null)).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${definition(v)}`).join(',')}}`;
    };
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const text = () =>
      Array.from({ length: Math.floor(random() * 6) }, () =>
        pick(['a', 'B', 'é', '"', '\\', '\n', '\u2028', '\u{1F600}', 'z', '_', '0', 'ü']),
      ).join('');
    const value = (depth: number): unknown => {
      const kind = depth > 3 ? Math.floor(random() * 5) : Math.floor(random() * 7);
      if (kind === 0) return null;
      if (kind === 1) return random() < 0.5;
      if (kind === 2) return pick([0, -0, 1.5, -3, 1e21, 2 ** 53, NaN, Infinity]);
      if (kind === 3) return text();
      if (kind === 4) return undefined;
      if (kind === 5) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 5) }, () => [text(), value(depth + 1)]),
      );
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(0);
      expect(canonicalJson(v)).toBe(definition(v));
    }
  });

  it('accepts an intact chain and starts it after events recorded before it existed', () => {
    const report = verifyChain(chain(6, 2));
    expect(report).toMatchObject({ ok: true, checked: 6, unhashed: 2, break: null });
    expect(report.head?.position).toBe(15);
  });

  it('names an altered event', () => {
    const events = chain(6);
    events[3] = { ...events[3]!, data: { i: 99 } };
    expect(verifyChain(events).break).toMatchObject({ kind: 'altered', position: 7 });
  });

  it('names the event after a removal', () => {
    const events = chain(6);
    events.splice(2, 1);
    expect(verifyChain(events).break).toMatchObject({ kind: 'removed', position: 7 });
  });

  it('names a removal of the first events', () => {
    expect(verifyChain(chain(4).slice(1)).break).toMatchObject({ kind: 'removed', position: 3 });
  });

  it('names an inserted event, chained or not', () => {
    const events = chain(6);
    const forged = { ...events[2]!, globalPosition: 6, eventId: 'forged', data: { forged: true } };
    const chained = { ...forged, prevHash: events[2]!.hash, hash: eventHash(events[2]!.hash!, forged) };
    expect(verifyChain([...events.slice(0, 3), chained, ...events.slice(3)]).break).toMatchObject({
      kind: 'inserted',
      position: 6,
    });
    const unhashed = { ...forged, prevHash: null, hash: null };
    expect(verifyChain([...events.slice(0, 3), unhashed, ...events.slice(3)]).break).toMatchObject({
      kind: 'inserted',
      position: 6,
    });
    const garbage = { ...forged, prevHash: 'ab'.repeat(32), hash: 'cd'.repeat(32) };
    expect(verifyChain([...events.slice(0, 3), garbage, ...events.slice(3)]).break).toMatchObject({
      kind: 'inserted',
      position: 6,
    });
  });
});
