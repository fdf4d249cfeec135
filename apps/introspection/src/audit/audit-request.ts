import type { AuditPageRequest } from '#lib/contracts';
import type { AuditQuery } from '#lib/event-store';
import { invalidRequest } from '#lib/oauth-errors';
import { parseInstant } from '#lib/oauth-protocol';

/** An instant parameter of an audit request (`from`, `to`, `as_of`): see parseInstant. */
export const instant = parseInstant;

/** The page bounds of a request, checked again here (the admin plane is not the only caller). */
export function pageBounds(page: AuditPageRequest | undefined): Omit<AuditQuery, 'streamIds'> {
  const limit = page?.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500)
    throw invalidRequest('limit must be 1 to 500');
  const after = page?.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0)
    throw invalidRequest('after must be a position (integer >= 0)');
  return { limit, after, from: instant(page?.from, 'from'), to: instant(page?.to, 'to') };
}
