import pLimit, { type LimitFunction } from 'p-limit';
import { verifyPassword } from './password.js';

export interface PasswordCheckCapacity {
  /** Password checks running at once in this process. */
  concurrency: number;
  /** Logins admitted beyond those: counting their attempt, looking up the user or waiting to check. */
  queue: number;
}

export type CheckPassword = (passwordHash: string | null, password: string) => Promise<boolean>;

/**
 * A bound on the password checks of one process, so that nobody can start unbounded argon2 work
 * (the login throttle bounds the guesses; this bounds their cost). Each argon2id check holds 19 MiB
 * and a thread of libuv's pool, which DNS lookups and file I/O share, so at most `concurrency` run
 * at once; at most `queue` more logins are admitted, and past that a login is refused at once,
 * before anything is counted or read.
 * The semaphore is p-limit's; the admission count around it is the queue bound p-limit does not have.
 */
export class PasswordCheckLimiter {
  private readonly limit: LimitFunction;
  private admitted = 0;

  constructor(
    private readonly capacity: PasswordCheckCapacity,
    private readonly check: CheckPassword = verifyPassword,
  ) {
    this.limit = pLimit(capacity.concurrency);
  }

  /** Logins admitted now (checking, or on their way to a check). */
  get inProgress(): number {
    return this.admitted;
  }

  /**
   * Runs `login` with a `checkPassword` bound to this process's limit, or returns `busy` at once
   * when `concurrency + queue` logins are already in progress.
   */
  async admit<T>(login: (checkPassword: CheckPassword) => Promise<T>): Promise<T | typeof BUSY> {
    if (this.admitted >= this.capacity.concurrency + this.capacity.queue) return BUSY;
    this.admitted++;
    try {
      return await login((hash, password) => this.limit(() => this.check(hash, password)));
    } finally {
      this.admitted--;
    }
  }
}

export const BUSY: unique symbol = Symbol('busy');
