import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ConsentConfig, SecretHashingConfig } from '#lib/config';
import { LOGIN_THROTTLE, LoginThrottle } from '#lib/domain-consent';
import { PasswordCheckLimiter } from '#lib/domain-user';
import { deriveKey } from '#lib/keysets';
import { CLOCK, type Clock, CONSENT_CONFIG, DATA_SOURCE, SECRET_HASHING_CONFIG } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { PgLoginAttemptStore } from './pg-login-attempt-store.js';

const FORGET_EVERY_MS = 60_000;

/**
 * Login throttling for this process (RFC 6749 §10.10): the attempt counter, kept in the
 * login_throttle table every consent replica shares, and the cap on this process's password checks.
 * Records that no longer count are deleted once a minute.
 */
@Injectable()
export class LoginThrottleService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LoginThrottle');
  private readonly store: PgLoginAttemptStore;
  readonly attempts: LoginThrottle;
  readonly passwordChecks: PasswordCheckLimiter;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(CONSENT_CONFIG) config: ConsentConfig,
    @Inject(SECRET_HASHING_CONFIG) hashing: SecretHashingConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.store = new PgLoginAttemptStore(dataSource);
    const base = { ...LOGIN_THROTTLE, windowSeconds: config.loginFailureWindowSeconds };
    this.attempts = new LoginThrottle(this.store, {
      account: { ...base, maxFailures: config.loginMaxFailures },
      address: { ...base, maxFailures: config.loginMaxFailuresPerIp },
      // Its own key, derived from the current secret-hash key (RFC 5869): a rotation of that key
      // starts the counts afresh, as the records hashed under the previous one are no longer found.
      key: deriveKey(hashing.secretHashKeys.current.key, 'authz-login-throttle'),
    });
    this.passwordChecks = new PasswordCheckLimiter({
      concurrency: config.loginPasswordChecksConcurrency,
      queue: config.loginPasswordChecksQueue,
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.store.forgetExpired(Math.floor(this.clock().getTime() / 1000)).catch((err: unknown) => {
        this.logger.warn(`could not delete expired login throttle records: ${String(err)}`);
      });
    }, FORGET_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
