import { Alarm } from './loop.js';

describe('Alarm (pacing of the relay and projection loops)', () => {
  const elapsed = async (work: () => Promise<void>) => {
    const start = Date.now();
    await work();
    return Date.now() - start;
  };

  it('skips the next pause when rung during a pass, once', async () => {
    const alarm = new Alarm();
    alarm.ring();
    expect(await elapsed(() => alarm.pause(5_000))).toBeLessThan(100);
    expect(await elapsed(() => alarm.pause(30))).toBeGreaterThanOrEqual(25);
  });

  it('ends a pause when rung', async () => {
    const alarm = new Alarm();
    setTimeout(() => alarm.ring(), 20);
    expect(await elapsed(() => alarm.pause(5_000))).toBeLessThan(1_000);
  });

  it('ignores rings in a pause told to (after a failure), but not interrupt()', async () => {
    const alarm = new Alarm();
    alarm.ring();
    setTimeout(() => alarm.ring(), 5);
    expect(await elapsed(() => alarm.pause(60, { ignoreRings: true }))).toBeGreaterThanOrEqual(55);
    setTimeout(() => alarm.interrupt(), 20);
    expect(await elapsed(() => alarm.pause(5_000, { ignoreRings: true }))).toBeLessThan(1_000);
  });
});
