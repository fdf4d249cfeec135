import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TOKEN_STATE, tokenStateProjection, type TokenStateRow } from '#lib/domain-token';
import { type EventStore, ProjectionRows, ProjectionRunner } from '#lib/event-store';
import { DATA_SOURCE, EVENT_STORE, reportProjectionLag } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';

/**
 * The token_state read model: projected continuously from the event log; a reader that must not
 * be stale (a token issued or revoked a moment ago) catches up before it reads.
 */
@Injectable()
export class TokenStateService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenState');
  readonly runner: ProjectionRunner;
  private readonly rows: ProjectionRows;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource, @Inject(EVENT_STORE) store: EventStore) {
    this.runner = new ProjectionRunner(dataSource, store, [tokenStateProjection], { batchSize: 500 });
    this.rows = new ProjectionRows(dataSource);
    reportProjectionLag(tokenStateProjection.name, async () => {
      const [head, position] = await Promise.all([store.headPosition(), this.runner.position()]);
      return Math.max(0, head - position);
    });
  }

  onApplicationBootstrap(): void {
    this.runner.start(500);
    this.logger.log('token_state projection running');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  async get(jti: string): Promise<TokenStateRow | null> {
    return this.rows.get<TokenStateRow>(TOKEN_STATE, jti);
  }

  /** Reads the row; when it is not there yet, catches the projection up once and reads again. */
  async getFresh(jti: string): Promise<TokenStateRow | null> {
    const row = await this.get(jti);
    if (row !== null) return row;
    await this.runner.catchUp();
    return this.get(jti);
  }

  waitFor(position: number): Promise<void> {
    return this.runner.waitFor(position, 5000);
  }
}
