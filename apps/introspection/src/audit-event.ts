import type { AuditPageRequest } from '#lib/contracts';
import type { AuditQuery } from '#lib/event-store';
export { toAuditEvent } from '#lib/service-runtime';
import { invalidRequest } from '#lib/oauth-errors';

export function instant(text: string | undefined, name: string): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw invalidRequest(`${name} must be an ISO 8601 instant`);
  return date;
}

/** The page bounds of a request, checked again here (the gateway is not the only caller). */
export function pageBounds(page: AuditPageRequest | undefined): Omit<AuditQuery, 'streamIds'> {
  const limit = page?.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500)
    throw invalidRequest('limit must be 1 to 500');
  const after = page?.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0)
    throw invalidRequest('after must be a position (integer >= 0)');
  return { limit, after, from: instant(page?.from, 'from'), to: instant(page?.to, 'to') };
}
