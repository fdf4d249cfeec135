/** Where loops report the errors they survive; Nest's Logger and `console` both fit. */
export interface RunnerLogger {
  error(message: string, error?: unknown): void;
}

export const consoleLogger: RunnerLogger = {
  error: (message, error) => console.error(message, error),
};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Paces a polling loop. A ring (new work) during a pass is kept, so the next pause is skipped; a
 * pause that ignores rings (after a failure, or while there is nothing for this loop to do) lasts
 * its time, so that a caller ringing on every append cannot turn an outage into a busy loop.
 * interrupt() ends any pause (for stop()).
 */
export class Alarm {
  private rung = false;
  private wake: (() => void) | undefined;
  private ringWakes = false;

  ring(): void {
    this.rung = true;
    if (this.ringWakes) this.wake?.();
  }

  interrupt(): void {
    this.wake?.();
  }

  async pause(ms: number, { ignoreRings = false } = {}): Promise<void> {
    if (!this.rung || ignoreRings) {
      this.ringWakes = !ignoreRings;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
    this.rung = false;
  }
}
