import { Pacer } from './pacing.js';

describe('a retention run keeps to its duty cycle', () => {
  const fakeTime = () => {
    let t = 0;
    return { timer: () => t, advance: (ms: number) => (t += ms) };
  };

  it('RET-P10 after each step it rests (1/d - 1) times the step', async () => {
    const time = fakeTime();
    const rests: number[] = [];
    const pacer = new Pacer(0.25, time.timer, async (ms) => {
      rests.push(ms);
    });
    expect(await pacer.step(async () => (time.advance(40), 'a'))).toBe('a');
    await pacer.step(async () => time.advance(10));
    expect(rests).toEqual([120, 30]);
    expect(pacer.rested).toBe(150);
  });

  it('RET-P11 at a duty cycle of 1 it never rests; a cycle outside (0, 1] is refused', async () => {
    const time = fakeTime();
    const rests: number[] = [];
    const pacer = new Pacer(1, time.timer, async (ms) => {
      rests.push(ms);
    });
    await pacer.step(async () => time.advance(500));
    expect(rests).toEqual([]);
    expect(() => new Pacer(0, time.timer, async () => undefined)).toThrow(RangeError);
    expect(() => new Pacer(1.5, time.timer, async () => undefined)).toThrow(RangeError);
  });

  it('RET-P12 a step that fails is not rested after and its error comes through', async () => {
    const time = fakeTime();
    const rests: number[] = [];
    const pacer = new Pacer(0.5, time.timer, async (ms) => {
      rests.push(ms);
    });
    await expect(pacer.step(async () => Promise.reject(new Error('lock timeout')))).rejects.toThrow(
      'lock timeout',
    );
    expect(rests).toEqual([]);
  });
});
