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
