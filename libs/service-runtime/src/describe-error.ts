/**
 * A thrown value as one short line for a log, an error description or a recorded outcome: an
 * Error's message with the code of its cause (a fetch failure's ECONNREFUSED), any other object as
 * JSON (a foreign NATS reply's err), anything else as text; at most 200 characters, so that what a
 * peer sent cannot grow an event or a log line without bound.
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err.cause as { code?: unknown } | null | undefined)?.code;
    return `${err.message}${typeof code === 'string' ? ` (${code})` : ''}`.slice(0, 200);
  }
  if (typeof err === 'object' && err !== null) return JSON.stringify(err).slice(0, 200);
  return String(err).slice(0, 200);
}
