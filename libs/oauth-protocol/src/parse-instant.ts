import { invalidRequest } from '#lib/oauth-errors';

/**
 * An ISO 8601 instant with a date and a time (e.g. `2026-11-25T17:00:00Z`), as the audit and
 * point-in-time requests take them (`from`, `to`, `as_of`). Absent → undefined; anything else,
 * including a bare date or a date that does not exist, is invalid_request (RFC 6749 §5.2 by analogy)
 * naming the parameter.
 */
export function parseInstant(text: string | undefined, name: string): Date | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw invalidRequest(`${name} must be an ISO 8601 instant`);
  return new Date(ms);
}
