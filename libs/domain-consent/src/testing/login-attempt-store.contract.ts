import { randomUUID } from 'node:crypto';
import { LOGIN_THROTTLE, LoginThrottle, type LoginAttemptStore } from '../login-throttle.js';

/**
 * The LoginAttemptStore contract (see the port's doc comment in login-throttle.ts), run against
 * every implementation (STYLE.md habit 8). `factories` returns two stores on the same shared state
 * (for Postgres: two pools on one database, as two consent replicas have), so that sharing is part
 * of the contract. Every test uses fresh keys.
 */
export function describeLoginAttemptStoreContract(
  name: string,
  factories: () => [LoginAttemptStore, LoginAttemptStore] | Promise<[LoginAttemptStore, LoginAttemptStore]>,
): void {
  describe(`LoginAttemptStore contract: ${name}`, () => {
    let one: LoginAttemptStore;
    let two: LoginAttemptStore;
    const key = Buffer.alloc(32, 7);
    const policies = { account: LOGIN_THROTTLE, address: { ...LOGIN_THROTTLE, maxFailures: 20 } };
    const now = 2_000_000_000;

    beforeEach(async () => {
      [one, two] = await factories();
    });

    it('reads an absent key as no failures, writes, and reads back in the order of the keys', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const seen = await one.update([a, b], (failures) => ({
        result: failures,
        writes: [
          { failures: [now - 2, now - 1], forgetAfter: now + 900 },
          { failures: [now], forgetAfter: now + 900 },
        ],
      }));
      expect(seen).toEqual([[], []]);
      expect(await two.update([a, b], (failures) => ({ result: failures, writes: null }))).toEqual([
        [now - 2, now - 1],
        [now],
      ]);
    });

    it('writes nothing when the change returns no writes, and forgets a key written empty', async () => {
      const k = randomUUID();
      await one.update([k], () => ({ result: null, writes: [{ failures: [now], forgetAfter: now + 1 }] }));
      await one.update([k], () => ({ result: null, writes: null }));
      expect(await two.update([k], (f) => ({ result: f, writes: null }))).toEqual([[now]]);
      await two.update([k], () => ({ result: null, writes: [{ failures: [], forgetAfter: 0 }] }));
      expect(await one.update([k], (f) => ({ result: f, writes: null }))).toEqual([[]]);
    });

    it('serialises concurrent updates of a key across stores: 8 parallel attempts, 5 counted (decision 13)', async () => {
      const throttles = [
        new LoginThrottle(one, { ...policies, key }),
        new LoginThrottle(two, { ...policies, key }),
      ];
      const user = `victim-${randomUUID()}`;
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => throttles[i % 2]!.reserve(user, '203.0.113.7', now)),
      );
      expect(answers.filter((a) => a.allowed)).toHaveLength(5);
      for (const a of answers.filter((x) => !x.allowed))
        expect(a).toEqual({ allowed: false, retryAfterSeconds: 30 });
      // The account is throttled from any address, through either store.
      expect(await throttles[1]!.reserve(user.toUpperCase(), '198.51.100.1', now + 1)).toEqual({
        allowed: false,
        retryAfterSeconds: 29,
      });
    });

    it('deletes only the records past their forgetAfter', async () => {
      const [old, live] = [randomUUID(), randomUUID()];
      await one.update([old, live], () => ({
        result: null,
        writes: [
          { failures: [now - 1000], forgetAfter: now - 100 },
          { failures: [now], forgetAfter: now + 900 },
        ],
      }));
      expect(await two.forgetExpired(now)).toBeGreaterThanOrEqual(1);
      expect(await one.update([old, live], (f) => ({ result: f, writes: null }))).toEqual([[], [now]]);
    });
  });
}
