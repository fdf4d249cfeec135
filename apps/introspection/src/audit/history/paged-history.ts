import type { AuditEvent, AuditPageRequest } from '#lib/contracts';
import { userStreamId } from '#lib/domain-user';
import { type AuditQuery, PgAuditLog, type RecordedEvent } from '#lib/event-store';
import { notFound } from '#lib/oauth-errors';
import { subjectOf, toAuditEvent } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';
import { pageBounds } from '../audit-request.js';

/** Which events make up a history (libs/event-store AuditQuery without the page bounds). */
export type HistoryCriteria = Omit<AuditQuery, 'limit' | 'after' | 'from' | 'to'>;

/** What one history is of: a client, a grant, a token, a user. */
export interface HistorySubject {
  /** Its criteria; may throw (not_found) when they cannot be known without the subject. */
  criteria(): HistoryCriteria | Promise<HistoryCriteria>;
  /** Whether it exists, asked only when a page comes back empty. */
  exists(): Promise<boolean>;
  /** The not_found description when it does not. */
  unknown: string;
}

export interface HistoryPage {
  events: AuditEvent[];
  next: number | null;
}

/**
 * The audit API's history use case (docs/events.md "Audit API"): the events a subject's criteria
 * select, in global order, a page at a time (`after` is the last position of the previous page,
 * `from`/`to` bound the recording instant); an empty page of a subject that does not exist is
 * not_found. The page bounds are checked before anything is read.
 */
export class PagedHistory {
  private readonly log: PgAuditLog;

  constructor(private readonly dataSource: DataSource) {
    this.log = new PgAuditLog(dataSource);
  }

  async page(request: AuditPageRequest | undefined, subject: HistorySubject): Promise<HistoryPage> {
    const bounds = pageBounds(request);
    const page = await this.log.query({ ...bounds, ...(await subject.criteria()) });
    if (page.events.length === 0 && !(await subject.exists())) throw notFound(subject.unknown);
    const erased = await this.erasedAmong(page.events);
    return { events: page.events.map((e) => toAuditEvent(e, erased)), next: page.next };
  }

  /** The users the page's events are about whose stream records UserErased. */
  private async erasedAmong(events: readonly RecordedEvent[]): Promise<Set<string>> {
    const subs = [...new Set(events.map(subjectOf).filter((s): s is string => s !== null))];
    if (subs.length === 0) return new Set();
    const rows: { sub: string }[] = await this.dataSource.query(
      `SELECT data->>'sub' AS sub FROM events WHERE stream_id = ANY($1::text[]) AND type = 'UserErased'`,
      [subs.map(userStreamId)],
    );
    return new Set(rows.map((r) => r.sub));
  }
}
