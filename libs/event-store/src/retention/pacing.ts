/**
 * Keeps a retention run to a share of the time (its duty cycle), so that the archiver's reading,
 * signing and deleting take turns with the requests the server is answering: after each step it
 * rests (1/dutyCycle − 1) times as long as the step took. At 1 it never rests.
 */
export class Pacer {
  /** Time spent resting so far, in ms. */
  rested = 0;

  constructor(
    private readonly dutyCycle: number,
    /** A monotonic clock in ms (performance.now). */
    private readonly timer: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    if (!(dutyCycle > 0 && dutyCycle <= 1)) throw new RangeError('the duty cycle must be in (0, 1]');
  }

  async step<T>(work: () => Promise<T>): Promise<T> {
    const started = this.timer();
    const value = await work();
    if (this.dutyCycle < 1) {
      const rest = (this.timer() - started) * (1 / this.dutyCycle - 1);
      if (rest >= 1) {
        this.rested += rest;
        await this.sleep(rest);
      }
    }
    return value;
  }
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
