import { randomUUID } from 'node:crypto';

/**
 * The correlation id of the work in progress: created by the HTTP edge for every request (never
 * taken from the caller, who could otherwise reuse another request's id to muddle the hash-chained
 * audit trail), returned in X-Correlation-Id, carried to every service in the NATS header below,
 * and written into every event's metadata and every log line about the request.
 *
 * What the caller sent as X-Correlation-Id or X-Request-Id, when well-formed, is kept beside it as
 * `callerRequestId`: untrusted, for matching the caller's own logs, never a key of the trail.
 *
 * It travels explicitly (the request's `context`, the RPC client's argument, the log line's field),
 * never in an AsyncLocalStorage: on Node 20 one enabled AsyncLocalStorage installs promise hooks
 * for the whole process, which cost the token service a quarter of its CPU per token
 * (docs/performance.md).
 */
export const CORRELATION_HEADER = 'X-Correlation-Id';

/** An id from elsewhere is kept only when it is short and plain (no log or header injection). */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptCorrelationId(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && WELL_FORMED.test(v) ? v : undefined;
}

export function newCorrelationId(): string {
  return randomUUID();
}

/** The caller's own request id (X-Correlation-Id, else X-Request-Id), when well-formed. */
export function callerRequestIdOf(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  return acceptCorrelationId(headers['x-correlation-id']) ?? acceptCorrelationId(headers['x-request-id']);
}

/** The well-formed correlation id a command carries in its `context`, if any. */
export function correlationIdOf(payload: unknown): string | undefined {
  return acceptCorrelationId(
    (payload as { context?: { correlationId?: unknown } } | null | undefined)?.context?.correlationId,
  );
}
