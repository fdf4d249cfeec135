import type { z } from 'zod';
import { int, settings } from './env.js';
import type { IssuerConfig } from './http-edge.js';

/** The consent service's own settings: authorization request and code lifetimes, login throttling. */
export const consentSettings = settings({
  /**
   * AUTHORIZATION_CODE_TTL_SECONDS: lifetime of an authorization code (RFC 6749 §4.1.2: short,
   * at most 10 minutes). Default 60.
   */
  authorizationCodeTtlSeconds: ['AUTHORIZATION_CODE_TTL_SECONDS', int(1, 600).default(60)],
  /**
   * AUTHORIZATION_REQUEST_TTL_SECONDS: how long the login and consent pages of one authorization
   * request may take before the user must start again. Default 600.
   */
  authorizationRequestTtlSeconds: ['AUTHORIZATION_REQUEST_TTL_SECONDS', int(30, 3600).default(600)],
  /** LOGIN_SESSION_TTL_SECONDS: lifetime of the login session cookie (no password asked again). Default 3600. */
  loginSessionTtlSeconds: ['LOGIN_SESSION_TTL_SECONDS', int(60, 30 * 86400).default(3600)],
  /**
   * LOGIN_MAX_FAILURES / LOGIN_FAILURE_WINDOW_SECONDS: after this many failed logins for one account
   * (from any address) within the window, 429 with Retry-After and exponential back-off (see RFC 6749
   * §10.10). Defaults 5 and 900. LOGIN_MAX_FAILURES_PER_IP: failed logins for any account from one
   * address (an IPv6 /64) within the window before that address waits too (password spraying).
   * Default 20. Each attempt is counted before its password is checked, in the
   * login_throttle table that every consent replica shares.
   */
  loginMaxFailures: ['LOGIN_MAX_FAILURES', int(1, 1000).default(5)],
  loginFailureWindowSeconds: ['LOGIN_FAILURE_WINDOW_SECONDS', int(1, 86400).default(900)],
  loginMaxFailuresPerIp: ['LOGIN_MAX_FAILURES_PER_IP', int(1, 100000).default(20)],
  /**
   * LOGIN_PASSWORD_CHECKS_CONCURRENCY / LOGIN_PASSWORD_CHECKS_QUEUE: password checks (argon2id,
   * 19 MiB each) running at once in one consent process, and logins admitted beyond those; past
   * both, 503 with Retry-After before anything is counted or read. Defaults 2 and 32.
   */
  loginPasswordChecksConcurrency: ['LOGIN_PASSWORD_CHECKS_CONCURRENCY', int(1, 64).default(2)],
  loginPasswordChecksQueue: ['LOGIN_PASSWORD_CHECKS_QUEUE', int(0, 10000).default(32)],
});

export type ConsentConfig = IssuerConfig & z.output<typeof consentSettings>;
