import { OAuthError } from '#lib/oauth-errors';

/**
 * Brute-force protection of client authentication (RFC 6749 §2.3.1, OAuth 2.1 §2.4.1: endpoints
 * that check credentials MUST resist brute force): after `maxFailures` failures from one key within `windowSeconds`, every
 * attempt from that key gets 429 with Retry-After until the oldest counted failure leaves the window.
 * The key is the caller's source address (`sourceAddressKey`), never a client_id alone: client ids
 * are public and secrets are 256-bit, so a lockout per client would only let anyone lock a service
 * out, while a correct secret from another address is never refused. Counts live in this process's
 * memory (bounded). Pure: the clock is passed in.
 */
export interface ThrottlePolicy {
  maxFailures: number;
  windowSeconds: number;
}

export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly policy: ThrottlePolicy) {}

  private recent(key: string, nowMs: number): number[] {
    const since = nowMs - this.policy.windowSeconds * 1000;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Throws 429 when `key` is over the threshold. */
  check(key: string, now: Date): void {
    const list = this.recent(key, now.getTime());
    if (list.length < this.policy.maxFailures) return;
    const freeAt = list[list.length - this.policy.maxFailures]! + this.policy.windowSeconds * 1000;
    const retryAfter = Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000));
    throw new OAuthError('invalid_client', 'too many failed authentication attempts', {
      status: 429,
      headers: { 'Retry-After': String(retryAfter) },
    });
  }

  recordFailure(key: string, now: Date): void {
    const list = this.recent(key, now.getTime());
    list.push(now.getTime());
    // Keep memory bounded per key.
    if (list.length > this.policy.maxFailures * 2) list.splice(0, list.length - this.policy.maxFailures * 2);
    this.failures.set(key, list);
    if (this.failures.size > 100_000) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }
}
