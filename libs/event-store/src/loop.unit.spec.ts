import { jest } from '@jest/globals';
import { Alarm } from './loop.js';

/**
 * On Jest's fake clock: a pause ends when the clock reaches its end, or at once on a ring or an
 * interrupt, whatever the machine's load (no wall-clock threshold).
 */
describe('Alarm (pacing of the relay and projection loops)', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  /** Starts a pause and reports whether it has ended. */
  function track(pause: Promise<void>): { ended: () => boolean } {
    let ended = false;
    void pause.then(() => (ended = true));
    return { ended: () => ended };
  }

  /** Runs the promise callbacks due, moving the fake clock by `ms`. */
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  it('skips the next pause when rung during a pass, once', async () => {
    const alarm = new Alarm();
    alarm.ring();
    const skipped = track(alarm.pause(5_000));
    await advance(0);
    expect(skipped.ended()).toBe(true);

    const next = track(alarm.pause(30));
    await advance(29);
    expect(next.ended()).toBe(false);
    await advance(1);
    expect(next.ended()).toBe(true);
  });

  it('ends a pause when rung', async () => {
    const alarm = new Alarm();
    const pause = track(alarm.pause(5_000));
    await advance(20);
    expect(pause.ended()).toBe(false);
    alarm.ring();
    await advance(0);
    expect(pause.ended()).toBe(true);
  });

  it('ignores rings in a pause told to (after a failure), but not interrupt()', async () => {
    const alarm = new Alarm();
    alarm.ring();
    const failed = track(alarm.pause(60, { ignoreRings: true }));
    await advance(5);
    alarm.ring();
    await advance(54);
    expect(failed.ended()).toBe(false);
    await advance(1);
    expect(failed.ended()).toBe(true);

    const stopping = track(alarm.pause(5_000, { ignoreRings: true }));
    await advance(20);
    alarm.interrupt();
    await advance(0);
    expect(stopping.ended()).toBe(true);
  });
});
