import {
  forgetAfter,
  InMemoryLoginAttemptStore,
  LOGIN_THROTTLE,
  LoginThrottle,
  retainedFailures,
  throttleVerdict,
  withoutAttempt,
} from './login-throttle.js';
import { describeLoginAttemptStoreContract } from './testing/index.js';

describe('login throttling (checklist decision 13)', () => {
  const now = 1_000_000;

  it('allows up to 4 recent failures, and the 5th starts the wait', () => {
    expect(throttleVerdict([now - 10, now - 9, now - 8, now - 7], now, LOGIN_THROTTLE)).toEqual({
      allowed: true,
    });
    expect(throttleVerdict([now - 10, now - 9, now - 8, now - 7, now - 6], now, LOGIN_THROTTLE)).toEqual({
      allowed: false,
      retryAfterSeconds: 24,
    });
  });

  it('the wait doubles with each further failure, up to the cap', () => {
    const five = [1, 2, 3, 4, 5].map((i) => now - 100 + i);
    const six = [...five, now];
    const verdict = throttleVerdict(six, now, LOGIN_THROTTLE);
    expect(verdict).toEqual({ allowed: false, retryAfterSeconds: 60 });
    const many = Array.from({ length: 20 }, (_, i) => now - 20 + i);
    expect(throttleVerdict(many, now, LOGIN_THROTTLE)).toEqual({
      allowed: false,
      retryAfterSeconds: 15 * 60 - 1,
    });
  });

  it('failures older than the window do not count', () => {
    const old = [1, 2, 3, 4, 5].map((i) => now - 15 * 60 - i);
    expect(throttleVerdict(old, now, LOGIN_THROTTLE)).toEqual({ allowed: true });
  });

  it('once the wait has passed, an attempt is allowed again', () => {
    const five = [1, 2, 3, 4, 5].map((i) => now - 100 + i);
    expect(throttleVerdict(five, now, LOGIN_THROTTLE)).toEqual({ allowed: true });
  });
});

describe('retainedFailures and forgetAfter: a bounded record per key', () => {
  const now = 1_000_000;

  it('keeps the window only, and no more failures than it takes for the wait to reach its cap', () => {
    const many = Array.from({ length: 100 }, (_, i) => now - 99 + i);
    const kept = retainedFailures([now - 2000, ...many], now, LOGIN_THROTTLE);
    // 5 + ceil(log2(900 / 30)) + 1 = 11: the verdict is the same as with all 100.
    expect(kept).toEqual(many.slice(-11));
    expect(throttleVerdict(kept, now, LOGIN_THROTTLE)).toEqual(throttleVerdict(many, now, LOGIN_THROTTLE));
  });

  it('forgets a record once its last failure has left the window and the longest wait is over', () => {
    expect(forgetAfter([now - 5, now], LOGIN_THROTTLE)).toBe(now + 900);
    expect(forgetAfter([], LOGIN_THROTTLE)).toBe(900);
  });
});

describe('LoginThrottle (checklist decision 13: counted before the check, per account and per address)', () => {
  const now = 1_000_000;
  const key = Buffer.alloc(32, 1);
  const policies = { account: LOGIN_THROTTLE, address: { ...LOGIN_THROTTLE, maxFailures: 20 } };
  let store: InMemoryLoginAttemptStore;
  let throttle: LoginThrottle;

  beforeEach(() => {
    store = new InMemoryLoginAttemptStore();
    throttle = new LoginThrottle(store, { ...policies, key });
  });

  const allowed = async (user: string, address: string, at = now) => {
    const r = await throttle.reserve(user, address, at);
    if (!r.allowed) throw new Error(`refused: ${r.retryAfterSeconds}`);
    return r.attempt;
  };

  it('counts 5 attempts for one account, then refuses from any address with the back-off wait', async () => {
    for (let i = 0; i < 5; i++) await allowed('alice', `192.0.2.${i}`);
    expect(await throttle.reserve('Alice', '198.51.100.1', now + 10)).toEqual({
      allowed: false,
      retryAfterSeconds: 20,
    });
    // A refusal is not counted: after the wait one more attempt, then the wait doubles.
    await allowed('alice', '198.51.100.1', now + 30);
    expect(await throttle.reserve('alice', '198.51.100.1', now + 30)).toEqual({
      allowed: false,
      retryAfterSeconds: 60,
    });
  });

  it('counts 20 attempts from one address across accounts, then refuses that address only', async () => {
    for (let i = 0; i < 20; i++) await allowed(`user${i}`, '203.0.113.9');
    expect(await throttle.reserve('someone', '203.0.113.9', now)).toMatchObject({ allowed: false });
    expect(await throttle.reserve('someone', '203.0.113.10', now)).toMatchObject({ allowed: true });
  });

  it('a right password forgets the account and withdraws its own count from the address', async () => {
    for (let i = 0; i < 4; i++) await allowed('bob', '192.0.2.1');
    const right = await allowed('bob', '192.0.2.1');
    await throttle.succeeded(right);
    const [account, address] = throttle.keysOf('bob', '192.0.2.1');
    expect(store.records.has(account)).toBe(false);
    expect(store.records.get(address)!.failures).toHaveLength(4);
  });

  it('an attempt never checked (the process was busy) is withdrawn from both keys', async () => {
    const a = await allowed('carol', '192.0.2.2');
    await throttle.withdraw(a);
    expect(store.records.size).toBe(0);
  });

  it('keys hold neither the username nor the address, and are case-insensitive in the username', () => {
    const [account, address] = throttle.keysOf('Dave', '192.0.2.3');
    expect(account).toBe(throttle.keysOf('dave', '192.0.2.3')[0]);
    expect(`${account}${address}`).not.toMatch(/dave|192/i);
    expect(
      new LoginThrottle(store, { ...policies, key: Buffer.alloc(32, 2) }).keysOf('dave', 'x')[0],
    ).not.toBe(account);
  });

  it('withoutAttempt removes one occurrence only', () => {
    expect(withoutAttempt([1, 2, 2, 3], 2)).toEqual([1, 2, 3]);
    expect(withoutAttempt([1], 5)).toEqual([1]);
  });
});

describeLoginAttemptStoreContract('InMemoryLoginAttemptStore', () => {
  const shared = new InMemoryLoginAttemptStore();
  return [shared, shared];
});
