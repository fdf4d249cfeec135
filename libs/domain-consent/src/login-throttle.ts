import { createHmac } from 'node:crypto';

/**
 * Login throttling (RFC 6749 §10.10: the server MUST prevent guessing of resource owner passwords;
 * OAuth 2.1 §2.4.1: endpoints that check credentials MUST resist brute force):
 * - an attempt is counted before its password is checked, so parallel attempts cannot all pass a
 *   verdict taken before any of them failed;
 * - after `maxFailures` attempts for one account (from any address) within `windowSeconds`, or
 *   `maxFailures` of the address policy from one address (any account), further attempts wait, and
 *   the wait doubles with each further failure up to `maxDelaySeconds`: 429 with Retry-After;
 * - a right password forgets the account's failures and withdraws its own count from the address;
 * - the counts live in a store every consent replica shares (LoginAttemptStore).
 * The arithmetic is pure: callers pass the failure times (epoch seconds) and the clock.
 */
export interface ThrottlePolicy {
  maxFailures: number;
  windowSeconds: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

export const LOGIN_THROTTLE: ThrottlePolicy = {
  maxFailures: 5,
  windowSeconds: 15 * 60,
  baseDelaySeconds: 30,
  maxDelaySeconds: 15 * 60,
};

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export function throttleVerdict(
  failures: readonly number[],
  nowSeconds: number,
  policy: ThrottlePolicy,
): ThrottleVerdict {
  const recent = failures.filter((t) => t > nowSeconds - policy.windowSeconds).sort((a, b) => a - b);
  if (recent.length < policy.maxFailures) return { allowed: true };
  const excess = recent.length - policy.maxFailures;
  const delay = Math.min(policy.baseDelaySeconds * 2 ** excess, policy.maxDelaySeconds);
  const until = recent[recent.length - 1]! + delay;
  return until > nowSeconds ? { allowed: false, retryAfterSeconds: until - nowSeconds } : { allowed: true };
}

/**
 * The failure times worth keeping: those inside the window, and of those only as many as it takes
 * for the wait to reach its cap (more would not change any verdict), so a key's record is bounded.
 */
export function retainedFailures(
  failures: readonly number[],
  nowSeconds: number,
  policy: ThrottlePolicy,
): number[] {
  const recent = failures.filter((t) => t > nowSeconds - policy.windowSeconds).sort((a, b) => a - b);
  const doublings = Math.ceil(Math.log2(Math.max(1, policy.maxDelaySeconds / policy.baseDelaySeconds)));
  return recent.slice(-(policy.maxFailures + doublings + 1));
}

/** When a key's record means nothing any more: its last failure has left the window and any wait is over. */
export function forgetAfter(failures: readonly number[], policy: ThrottlePolicy): number {
  const last = failures.length === 0 ? 0 : Math.max(...failures);
  return last + Math.max(policy.windowSeconds, policy.maxDelaySeconds);
}

/** One key's record as the store keeps it. */
export interface KeyRecord {
  /** Epoch seconds of the counted attempts; empty: the key is forgotten. */
  failures: number[];
  /** Epoch seconds after which the record may be deleted. */
  forgetAfter: number;
}

/** What an update does: the answer, and the records to write (null: write nothing, count nothing). */
export interface KeyUpdate<T> {
  result: T;
  writes: KeyRecord[] | null;
}

/**
 * Failure times by throttle key, in state every consent replica shares (a table in Postgres).
 * Contract: `update` is atomic and serialised per key: it reads the records of `keys` (an absent
 * key reads as no failures), calls `change` once with their failure times in the order of `keys`,
 * and writes `writes[i]` to `keys[i]` before any other update of those keys reads them. Callers
 * always pass keys in one global order (account before address), so updates cannot deadlock.
 */
export interface LoginAttemptStore {
  update<T>(keys: readonly string[], change: (failures: number[][]) => KeyUpdate<T>): Promise<T>;
  /** Deletes the records whose forgetAfter has passed; returns how many. */
  forgetExpired(nowSeconds: number): Promise<number>;
}

/** The store in this process's memory: for tests and a single process. */
export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  readonly records = new Map<string, KeyRecord>();

  async update<T>(keys: readonly string[], change: (failures: number[][]) => KeyUpdate<T>): Promise<T> {
    // No await between the read and the write: atomic on one event loop.
    const { result, writes } = change(keys.map((k) => [...(this.records.get(k)?.failures ?? [])]));
    if (writes !== null)
      keys.forEach((k, i) => {
        const write = writes[i]!;
        if (write.failures.length === 0) this.records.delete(k);
        else this.records.set(k, { failures: [...write.failures], forgetAfter: write.forgetAfter });
      });
    return result;
  }

  async forgetExpired(nowSeconds: number): Promise<number> {
    let n = 0;
    for (const [key, record] of this.records)
      if (record.forgetAfter < nowSeconds) {
        this.records.delete(key);
        n++;
      }
    return n;
  }
}

/** A counted attempt: what must be undone when its password turns out right or is never checked. */
export interface LoginAttempt {
  readonly keys: readonly [account: string, address: string];
  readonly at: number;
}

export type Reservation =
  { allowed: true; attempt: LoginAttempt } | { allowed: false; retryAfterSeconds: number };

export interface LoginThrottleOptions {
  account: ThrottlePolicy;
  address: ThrottlePolicy;
  /** Record keys are HMACs under it: the store holds neither usernames nor addresses. */
  key: Buffer;
}

/** Removes one occurrence of `at` (an attempt's own count). */
export function withoutAttempt(failures: readonly number[], at: number): number[] {
  const i = failures.indexOf(at);
  return i < 0 ? [...failures] : [...failures.slice(0, i), ...failures.slice(i + 1)];
}

export class LoginThrottle {
  constructor(
    private readonly store: LoginAttemptStore,
    private readonly options: LoginThrottleOptions,
  ) {}

  /**
   * The keys of an attempt, account first: the username as the user lookup sees it (lower case),
   * and the source address as `sourceAddressKey` counts it.
   */
  keysOf(username: string, address: string): [account: string, address: string] {
    const mac = (label: string, value: string) =>
      `${label}:${createHmac('sha256', this.options.key).update(`login-throttle\n${label}\n${value}`).digest('base64url')}`;
    return [mac('account', username.toLowerCase()), mac('address', address)];
  }

  /** Counts the attempt before its password is checked, or refuses it without counting it. */
  reserve(username: string, address: string, nowSeconds: number): Promise<Reservation> {
    const keys = this.keysOf(username, address);
    const policies = [this.options.account, this.options.address];
    return this.store.update<Reservation>(keys, (failures) => {
      const verdicts = failures.map((f, i) => throttleVerdict(f, nowSeconds, policies[i]!));
      const waits = verdicts.map((v) => (v.allowed ? 0 : v.retryAfterSeconds));
      if (waits.some((w) => w > 0)) {
        return { result: { allowed: false, retryAfterSeconds: Math.max(...waits) }, writes: null };
      }
      const writes = failures.map((f, i) => {
        const kept = retainedFailures([...f, nowSeconds], nowSeconds, policies[i]!);
        return { failures: kept, forgetAfter: forgetAfter(kept, policies[i]!) };
      });
      return { result: { allowed: true, attempt: { keys, at: nowSeconds } }, writes };
    });
  }

  /** The password was right: the account's failures are forgotten; the address keeps only failures. */
  succeeded(attempt: LoginAttempt): Promise<void> {
    return this.store.update(attempt.keys, ([, address]) => {
      const kept = withoutAttempt(address!, attempt.at);
      return {
        result: undefined,
        writes: [
          { failures: [], forgetAfter: 0 },
          { failures: kept, forgetAfter: forgetAfter(kept, this.options.address) },
        ],
      };
    });
  }

  /** The password was never checked (the process was too busy): the attempt is not counted. */
  withdraw(attempt: LoginAttempt): Promise<void> {
    const policies = [this.options.account, this.options.address];
    return this.store.update(attempt.keys, (failures) => ({
      result: undefined,
      writes: failures.map((f, i) => {
        const kept = withoutAttempt(f, attempt.at);
        return { failures: kept, forgetAfter: forgetAfter(kept, policies[i]!) };
      }),
    }));
  }
}
