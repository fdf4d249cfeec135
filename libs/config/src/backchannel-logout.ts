import type { z } from 'zod';
import { int, settings } from './env.js';

/** The longest delay between two attempts. */
export const BACKCHANNEL_LOGOUT_MAX_DELAY_MS = 600_000;

/**
 * OpenID Connect Back-Channel Logout 1.0 deliveries by the consent service (docs/openid-connect.md):
 * a failed delivery is tried again after BACKCHANNEL_LOGOUT_RETRY_BASE_MS, then after twice as
 * long each time (at most 10 minutes apart), BACKCHANNEL_LOGOUT_MAX_ATTEMPTS times in all. Each
 * attempt is one POST through the outbound guard (OUTBOUND_ALLOW, OUTBOUND_TIMEOUT_MS).
 */
export const backchannelLogoutSettings = settings({
  /** BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: attempts per client and logout, the first included. Default 8. */
  backchannelLogoutMaxAttempts: ['BACKCHANNEL_LOGOUT_MAX_ATTEMPTS', int(1, 20).default(8)],
  /** BACKCHANNEL_LOGOUT_RETRY_BASE_MS: the delay before the second attempt. Default 10000. */
  backchannelLogoutRetryBaseMs: [
    'BACKCHANNEL_LOGOUT_RETRY_BASE_MS',
    int(100, BACKCHANNEL_LOGOUT_MAX_DELAY_MS).default(10_000),
  ],
});

export type BackchannelLogoutConfig = z.output<typeof backchannelLogoutSettings>;
