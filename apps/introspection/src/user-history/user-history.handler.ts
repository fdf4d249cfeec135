import { Inject, Injectable } from '@nestjs/common';
import type { UserHistoryRequest, UserHistoryResponse } from '#lib/contracts';
import { userHistoryCriteria } from '#lib/domain-token';
import { PgAuditLog } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { DATA_SOURCE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { pageBounds, toAuditEvent } from '../audit-event.js';

/** A resource owner's history (userHistoryCriteria), in global order, a page at a time. */
@Injectable()
export class UserHistoryHandler {
  private readonly log: PgAuditLog;

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {
    this.log = new PgAuditLog(dataSource);
  }

  async handle(request: UserHistoryRequest): Promise<UserHistoryResponse> {
    const page = await this.log.query({ ...pageBounds(request.page), ...userHistoryCriteria(request.sub) });
    if (page.events.length === 0 && !(await this.known(request.sub))) {
      throw notFound('no event names this user');
    }
    return { sub: request.sub, events: page.events.map(toAuditEvent), next: page.next };
  }

  private async known(sub: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM events WHERE (data ? 'sub' AND data->>'sub' = $1) OR stream_id = $2 LIMIT 1`,
      [sub, userHistoryCriteria(sub).streamIds![0]],
    );
    return rows.length > 0;
  }
}
