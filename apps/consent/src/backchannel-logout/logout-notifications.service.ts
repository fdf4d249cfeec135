import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import pLimit from 'p-limit';
import type { DataSource } from 'typeorm';
import {
  dueClients,
  LOGOUT_NOTIFICATIONS,
  logoutNotificationsProjection,
  type LogoutNotificationsRow,
} from '#lib/domain-consent';
import { Alarm, type EventStore, ProjectionRows, ProjectionRunner } from '#lib/event-store';
import { CLOCK, type Clock, DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import { SendLogoutNotificationHandler } from './send-logout-notification.handler.js';

/** Sessions looked at per pass, and deliveries made at once. */
const BATCH = 50;
const CONCURRENCY = 8;
/** The longest pause between two passes, and the pause after a pass that failed. */
const IDLE_MS = 1000;
const MIN_PAUSE_MS = 20;

/**
 * Finds the Back-Channel Logout 1.0 deliveries that are due (the `logout-notifications` read model)
 * and makes them, in every consent replica: two replicas trying one attempt are decided by the
 * session stream's version, so exactly one sends it. Deliveries survive a restart: what is due is
 * in the events, not in memory.
 */
@Injectable()
export class LogoutNotificationsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BackchannelLogout');
  private readonly runner: ProjectionRunner;
  private readonly rows: ProjectionRows;
  private readonly alarm = new Alarm();
  private readonly limit = pLimit(CONCURRENCY);
  private loop: Promise<void> | null = null;
  private running = false;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly sender: SendLogoutNotificationHandler,
  ) {
    this.runner = new ProjectionRunner(dataSource, store, [logoutNotificationsProjection], {
      checkpointName: 'consent',
    });
    this.rows = new ProjectionRows(dataSource);
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.alarm.interrupt();
    await this.loop;
  }

  /**
   * One pass: the read model caught up, the due deliveries made. Resolves to the pause before the
   * next pass: a moment after one that found work (the rows it changed are read again, caught up),
   * else until the next row falls due, IDLE_MS at most.
   */
  async pass(): Promise<number> {
    await this.runner.catchUp();
    const now = this.clock();
    const { rows, next } = await this.rows.dueBy<LogoutNotificationsRow>(
      LOGOUT_NOTIFICATIONS,
      'dueAt',
      now,
      BATCH,
    );
    const work = rows.flatMap((row) => dueClients(row, now).map((clientId) => ({ sid: row.sid, clientId })));
    const failed = await Promise.all(
      work.map(({ sid, clientId }) =>
        this.limit(() =>
          this.sender.deliver(sid, clientId).then(
            () => false,
            (err: unknown) => {
              this.logger.error({ msg: 'logout notification not made', sid, clientId, err: String(err) });
              return true;
            },
          ),
        ),
      ),
    );
    if (failed.some(Boolean)) throw new Error('some logout notifications were not made');
    if (rows.length > 0) return MIN_PAUSE_MS;
    if (next === null) return IDLE_MS;
    return Math.min(IDLE_MS, Math.max(MIN_PAUSE_MS, next.getTime() - this.clock().getTime()));
  }

  private async run(): Promise<void> {
    while (this.running) {
      let pause = IDLE_MS;
      try {
        pause = await this.pass();
      } catch (err) {
        this.logger.error({ msg: 'logout notification pass failed', err: String(err) });
      }
      if (this.running) await this.alarm.pause(pause, { ignoreRings: true });
    }
  }
}
