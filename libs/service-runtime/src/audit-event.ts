import type { AuditEvent } from '#lib/contracts';
import type { RecordedEvent } from '#lib/event-store';

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
