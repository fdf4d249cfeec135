import { publishSoon } from './publish-batch.js';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('publishSoon: the NATS messages of one event-loop turn leave together (issue 9)', () => {
  it('runs nothing during the turn, then everything queued in it, in order', async () => {
    const sent: string[] = [];
    publishSoon(() => sent.push('a'));
    await Promise.resolve();
    publishSoon(() => sent.push('b'));
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual(['a', 'b']);
    publishSoon(() => sent.push('c'));
    await nextTurn();
    expect(sent).toEqual(['a', 'b', 'c']);
  });

  it('a publish that throws does not hold back the others, and is reported', async () => {
    const warned: unknown[] = [];
    const emitWarning = process.emitWarning;
    process.emitWarning = ((w: unknown) => warned.push(w)) as typeof process.emitWarning;
    const sent: string[] = [];
    try {
      publishSoon(() => {
        throw new Error('connection closed');
      });
      publishSoon(() => sent.push('after'));
      await nextTurn();
    } finally {
      process.emitWarning = emitWarning;
    }
    expect(sent).toEqual(['after']);
    expect(warned).toEqual(['NATS publish failed: connection closed']);
  });
});
