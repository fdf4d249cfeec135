import type { AuditEvent } from '#lib/contracts';
import type { RecordedEvent } from '#lib/event-store';
import { ERASED, isSealed } from '#lib/personal-data';

/** Data fields the audit API never shows: secret hashes and sealed keys stay in the log only. */
const HIDDEN = /Hash$|^sealed/;

/** What the audit API shows for a sealed personal field whose person is still there (GDPR Art. 5(1)(c)). */
export const SEALED_PERSONAL_DATA = '[personal data]';

function redact(value: unknown, sealedAs: string): unknown {
  if (isSealed(value)) return sealedAs;
  if (Array.isArray(value)) return value.map((v) => redact(v, sealedAs));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      HIDDEN.test(k) ? '[redacted]' : redact(v, sealedAs),
    ]),
  );
}

/** The user an event is about (`data.sub`), if any. */
export function subjectOf(e: RecordedEvent): string | null {
  const data = e.data as Record<string, unknown> | null;
  return data !== null && typeof data === 'object' && typeof data.sub === 'string' ? data.sub : null;
}

/**
 * An event as the audit API shows it: hashes and sealed keys redacted; personal fields (sealed,
 * libs/personal-data) never opened here: shown as erased for a subject in `erased`, else as
 * personal data (an administrator reads a living user's profile from the users API).
 */
export function toAuditEvent(e: RecordedEvent, erased: ReadonlySet<string> = new Set()): AuditEvent {
  const sub = subjectOf(e);
  const gone = sub !== null && erased.has(sub);
  const sealedAs = gone ? ERASED : SEALED_PERSONAL_DATA;
  // The RFC 7662 `username` the token service copies into its grant and token events is not sealed.
  const data =
    gone && typeof (e.data as { username?: unknown }).username === 'string'
      ? { ...(e.data as object), username: ERASED }
      : e.data;
  return {
    position: e.globalPosition,
    streamId: e.streamId,
    version: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    recordedAt: e.recordedAt.toISOString(),
    data: redact(data, sealedAs),
    metadata: { ...e.metadata },
  };
}
