import { Inject, Injectable } from '@nestjs/common';
import type { UserHistoryRequest, UserHistoryResponse } from '#lib/contracts';
import { userHistoryCriteria } from '#lib/domain-token';
import { DATA_SOURCE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { PagedHistory } from './paged-history.js';

/** A resource owner's history (userHistoryCriteria), in global order, a page at a time. */
@Injectable()
export class UserHistoryHandler {
  private readonly history: PagedHistory;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {
    this.history = new PagedHistory(dataSource);
  }

  async handle(request: UserHistoryRequest): Promise<UserHistoryResponse> {
    const page = await this.history.page(request.page, {
      criteria: () => userHistoryCriteria(request.sub),
      exists: () => this.known(request.sub),
      unknown: 'no event names this user',
    });
    return { sub: request.sub, ...page };
  }

  /** Whether any event names the user, or their own stream has any. */
  private async known(sub: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM events WHERE (data ? 'sub' AND data->>'sub' = $1) OR stream_id = $2 LIMIT 1`,
      [sub, userHistoryCriteria(sub).streamIds![0]],
    );
    return rows.length > 0;
  }
}
