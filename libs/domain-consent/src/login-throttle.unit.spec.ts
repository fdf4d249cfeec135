import { LOGIN_THROTTLE, throttleVerdict } from './login-throttle.js';

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
