import { BUSY, PasswordCheckLimiter } from './password-checks.js';

describe('PasswordCheckLimiter (checklist decision 13: password checks per process are capped)', () => {
  /** A password check that finishes when the test says so, counting how many run at once. */
  function scripted() {
    let running = 0;
    let most = 0;
    const pending: (() => void)[] = [];
    const check = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => pending.push(r));
      running--;
      return false;
    };
    return { check, pending, most: () => most, running: () => running };
  }

  const flush = () => new Promise((r) => setImmediate(r));

  it('runs at most `concurrency` checks at once, admits `queue` more, and refuses the rest at once', async () => {
    const s = scripted();
    const limiter = new PasswordCheckLimiter({ concurrency: 2, queue: 3 }, s.check);
    const logins = Array.from({ length: 10 }, () =>
      limiter.admit(async (checkPassword) => checkPassword('hash', 'guess')),
    );
    const refused = (await Promise.all(logins.slice(5))).filter((r) => r === BUSY);
    expect(refused).toHaveLength(5);
    expect(limiter.inProgress).toBe(5);
    await flush();
    expect(s.running()).toBe(2);
    while (s.pending.length > 0 || s.running() > 0) {
      s.pending.splice(0).forEach((done) => done());
      await flush();
    }
    expect(await Promise.all(logins.slice(0, 5))).toEqual([false, false, false, false, false]);
    expect(s.most()).toBe(2);
    expect(limiter.inProgress).toBe(0);
  });

  it('frees the slot of a login that throws', async () => {
    const limiter = new PasswordCheckLimiter({ concurrency: 1, queue: 0 }, async () => true);
    await expect(
      limiter.admit(async () => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
    expect(await limiter.admit((checkPassword) => checkPassword(null, 'x'))).toBe(true);
  });
});
