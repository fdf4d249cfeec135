/**
 * Checklist decision 13 (RFC 6749 §10.10, OAuth 2.1 §2.4.1: endpoints that check credentials MUST
 * resist brute force): after `maxFailures` failed logins for one account from one address within
 * `windowSeconds`, further attempts wait, and the wait doubles with each further failure.
 * Pure: the caller supplies the failure times it keeps (in memory or from events).
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
