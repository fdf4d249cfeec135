import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  USER_GRANTS,
  type UserGrantsRow,
  userGrantsProjection,
  type UserRow,
  USERS,
  usersProjection,
} from '#lib/domain-user';
import { USER_SESSIONS, userSessionsProjection, type UserSessionsRow } from '#lib/domain-consent';
import { type EventStore, type ProjectionRow, ProjectionRows, ProjectionRunner } from '#lib/event-store';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';

/**
 * The consent service's read models: `users` (lists), `user-grants` (a user's consents and
 * grants) and `user-sessions` (a user's browser sessions). Every read catches up first: revocation must see the grant issued a moment ago.
 */
@Injectable()
export class UserProjectionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runner: ProjectionRunner;
  private readonly rows: ProjectionRows;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource, @Inject(EVENT_STORE) store: EventStore) {
    this.runner = new ProjectionRunner(
      dataSource,
      store,
      [usersProjection, userGrantsProjection, userSessionsProjection],
      {
        batchSize: 500,
        checkpointName: 'consent',
      },
    );
    this.rows = new ProjectionRows(dataSource);
  }

  onApplicationBootstrap(): void {
    this.runner.start(500);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  async usersPage(after: string | undefined, limit: number): Promise<ProjectionRow<UserRow>[]> {
    await this.runner.catchUp();
    return this.rows.page<UserRow>(USERS, after, limit);
  }

  async grantsOf(sub: string): Promise<UserGrantsRow | null> {
    await this.runner.catchUp();
    return this.rows.get<UserGrantsRow>(USER_GRANTS, sub);
  }

  async sessionsOf(sub: string): Promise<UserSessionsRow | null> {
    await this.runner.catchUp();
    return this.rows.get<UserSessionsRow>(USER_SESSIONS, sub);
  }
}
