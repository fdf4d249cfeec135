import { type Env, int } from './env.js';

/**
 * OpenID Connect Back-Channel Logout 1.0 deliveries by the consent service (docs/openid-connect.md):
 * a failed delivery is tried again after BACKCHANNEL_LOGOUT_RETRY_BASE_MS, then after twice as
 * long each time (at most 10 minutes apart), BACKCHANNEL_LOGOUT_MAX_ATTEMPTS times in all. Each
 * attempt is one POST through the outbound guard (OUTBOUND_ALLOW, OUTBOUND_TIMEOUT_MS).
 */
export interface BackchannelLogoutConfig {
  /** BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: attempts per client and logout, the first included. Default 8. */
  backchannelLogoutMaxAttempts: number;
  /** BACKCHANNEL_LOGOUT_RETRY_BASE_MS: the delay before the second attempt. Default 10000. */
  backchannelLogoutRetryBaseMs: number;
}

/** The longest delay between two attempts. */
export const BACKCHANNEL_LOGOUT_MAX_DELAY_MS = 600_000;

export function readBackchannelLogoutSettings(env: Env): BackchannelLogoutConfig {
  return {
    backchannelLogoutMaxAttempts: int(env, 'BACKCHANNEL_LOGOUT_MAX_ATTEMPTS', 8, 1, 20),
    backchannelLogoutRetryBaseMs: int(
      env,
      'BACKCHANNEL_LOGOUT_RETRY_BASE_MS',
      10_000,
      100,
      BACKCHANNEL_LOGOUT_MAX_DELAY_MS,
    ),
  };
}
