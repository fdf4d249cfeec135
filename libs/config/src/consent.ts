import { type Env, int } from './env.js';
import type { IssuerConfig } from './http-edge.js';

export interface ConsentConfig extends IssuerConfig {
  /**
   * AUTHORIZATION_CODE_TTL_SECONDS: lifetime of an authorization code (RFC 6749 §4.1.2: short,
   * at most 10 minutes). Default 60.
   */
  authorizationCodeTtlSeconds: number;
  /**
   * AUTHORIZATION_REQUEST_TTL_SECONDS: how long the login and consent pages of one authorization
   * request may take before the user must start again. Default 600.
   */
  authorizationRequestTtlSeconds: number;
  /** LOGIN_SESSION_TTL_SECONDS: lifetime of the login session cookie (no password asked again). Default 3600. */
  loginSessionTtlSeconds: number;
  /**
   * LOGIN_MAX_FAILURES / LOGIN_FAILURE_WINDOW_SECONDS: after this many failed logins for one account
   * (from any address) within the window, 429 with Retry-After and exponential back-off (see RFC 6749
   * §10.10). Defaults 5 and 900. LOGIN_MAX_FAILURES_PER_IP: failed logins for any account from one
   * address (an IPv6 /64) within the window before that address waits too (password spraying).
   * Default 20. Each attempt is counted before its password is checked, in the
   * login_throttle table that every consent replica shares.
   */
  loginMaxFailures: number;
  loginFailureWindowSeconds: number;
  loginMaxFailuresPerIp: number;
  /**
   * LOGIN_PASSWORD_CHECKS_CONCURRENCY / LOGIN_PASSWORD_CHECKS_QUEUE: password checks (argon2id,
   * 19 MiB each) running at once in one consent process, and logins admitted beyond those; past
   * both, 503 with Retry-After before anything is counted or read. Defaults 2 and 32.
   */
  loginPasswordChecksConcurrency: number;
  loginPasswordChecksQueue: number;
}

/** The consent service's own settings: authorization request and code lifetimes, login throttling. */
export function readConsentSettings(env: Env): Omit<ConsentConfig, keyof IssuerConfig> {
  return {
    authorizationCodeTtlSeconds: int(env, 'AUTHORIZATION_CODE_TTL_SECONDS', 60, 1, 600),
    authorizationRequestTtlSeconds: int(env, 'AUTHORIZATION_REQUEST_TTL_SECONDS', 600, 30, 3600),
    loginSessionTtlSeconds: int(env, 'LOGIN_SESSION_TTL_SECONDS', 3600, 60, 30 * 86400),
    loginMaxFailures: int(env, 'LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginFailureWindowSeconds: int(env, 'LOGIN_FAILURE_WINDOW_SECONDS', 900, 1, 86400),
    loginMaxFailuresPerIp: int(env, 'LOGIN_MAX_FAILURES_PER_IP', 20, 1, 100000),
    loginPasswordChecksConcurrency: int(env, 'LOGIN_PASSWORD_CHECKS_CONCURRENCY', 2, 1, 64),
    loginPasswordChecksQueue: int(env, 'LOGIN_PASSWORD_CHECKS_QUEUE', 32, 0, 10000),
  };
}
