import type { AuditEvent, AuditPageRequest } from '#lib/contracts';
import type { AuditQuery, RecordedEvent } from '#lib/event-store';
import { invalidRequest } from '#lib/oauth-errors';

/** Data fields the audit API never shows: secret hashes and sealed keys stay in the log only. */
const HIDDEN = /Hash$|^sealed/;

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      HIDDEN.test(k) ? '[redacted]' : redact(v),
    ]),
  );
}

export function toAuditEvent(e: RecordedEvent): AuditEvent {
  return {
    position: e.globalPosition,
    streamId: e.streamId,
    version: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    recordedAt: e.recordedAt.toISOString(),
    data: redact(e.data),
    metadata: { ...e.metadata },
  };
}

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
