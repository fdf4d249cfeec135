import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * The correlation id of the work in progress: taken by the gateway from X-Correlation-Id or
 * X-Request-Id (or created), carried to every service in the NATS header below, and written into
 * every event's metadata and every log line.
 */
export const CORRELATION_HEADER = 'X-Correlation-Id';

const storage = new AsyncLocalStorage<{ correlationId: string }>();

/** A caller-supplied id is used only when it is short and plain (no log or header injection). */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptCorrelationId(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && WELL_FORMED.test(v) ? v : undefined;
}

export function newCorrelationId(): string {
  return randomUUID();
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

export function runWithCorrelation<T>(correlationId: string, fn: () => T): T {
  return storage.run({ correlationId }, fn);
}
