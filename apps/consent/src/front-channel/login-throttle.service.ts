import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '#lib/config';
import { type ThrottlePolicy, throttleVerdict, type ThrottleVerdict } from '#lib/domain-consent';
import { CONFIG } from '#lib/service-runtime';

/**
 * Checklist decision 13 and UI-14: failed logins per (account, address) and per address, kept in
 * this process's memory (bounded: stale keys are dropped). The verdicts are the pure throttleVerdict.
 */
@Injectable()
export class LoginThrottleService {
  private readonly failures = new Map<string, number[]>();
  private readonly account: ThrottlePolicy;
  private readonly address: ThrottlePolicy;

  constructor(@Inject(CONFIG) config: Config) {
    const base = {
      windowSeconds: config.loginFailureWindowSeconds,
      baseDelaySeconds: 30,
      maxDelaySeconds: 15 * 60,
    };
    this.account = { ...base, maxFailures: config.loginMaxFailures };
    this.address = { ...base, maxFailures: config.loginMaxFailuresPerIp };
  }

  private keys(username: string, ip: string): [string, string] {
    return [`a\n${username.toLowerCase()}\n${ip}`, `i\n${ip}`];
  }

  verdict(username: string, ip: string, nowSeconds: number): ThrottleVerdict {
    const [account, address] = this.keys(username, ip);
    const byAccount = throttleVerdict(this.failures.get(account) ?? [], nowSeconds, this.account);
    const byAddress = throttleVerdict(this.failures.get(address) ?? [], nowSeconds, this.address);
    if (byAccount.allowed && byAddress.allowed) return { allowed: true };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(
        byAccount.allowed ? 0 : byAccount.retryAfterSeconds,
        byAddress.allowed ? 0 : byAddress.retryAfterSeconds,
      ),
    };
  }

  fail(username: string, ip: string, nowSeconds: number): void {
    const horizon = nowSeconds - Math.max(this.account.windowSeconds, 15 * 60);
    for (const key of this.keys(username, ip)) {
      const list = (this.failures.get(key) ?? []).filter((t) => t > horizon);
      list.push(nowSeconds);
      this.failures.set(key, list.slice(-1000));
    }
    if (this.failures.size > 100_000) {
      for (const [key, list] of this.failures)
        if (list[list.length - 1]! <= horizon) this.failures.delete(key);
    }
  }

  succeed(username: string, ip: string): void {
    this.failures.delete(this.keys(username, ip)[0]);
  }
}
