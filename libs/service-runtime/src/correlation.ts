import { randomUUID } from 'node:crypto';

/**
 * The correlation id of the work in progress: taken by the gateway from X-Correlation-Id or
 * X-Request-Id (or created), carried to every service in the NATS header below, and written into
 * every event's metadata and every log line about the request.
 *
 * It travels explicitly (the request's `context`, the RPC client's argument, the log line's field),
 * never in an AsyncLocalStorage: on Node 20 one enabled AsyncLocalStorage installs promise hooks
 * for the whole process, which cost the token service a quarter of its CPU per token
 * (docs/performance.md).
 */
export const CORRELATION_HEADER = 'X-Correlation-Id';

/** A caller-supplied id is used only when it is short and plain (no log or header injection). */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptCorrelationId(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && WELL_FORMED.test(v) ? v : undefined;
}

export function newCorrelationId(): string {
  return randomUUID();
}

/** The well-formed correlation id a command carries in its `context`, if any. */
export function correlationIdOf(payload: unknown): string | undefined {
  return acceptCorrelationId(
    (payload as { context?: { correlationId?: unknown } } | null | undefined)?.context?.correlationId,
  );
}
