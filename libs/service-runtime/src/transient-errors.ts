import { UnstorableText } from '#lib/event-store';
import { invalidRequest, OAuthError, temporarilyUnavailable } from '#lib/oauth-errors';

/**
 * A dependency that is down (Postgres restarting, a connection dropped) is a temporary condition:
 * the caller gets temporarily_unavailable (503), not server_error.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

export function isTransientError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    message,
  );
}

export function asOAuthError(err: unknown): unknown {
  if (err instanceof OAuthError) return err;
  // A NUL or a lone surrogate that reached an event came with the request: refused as the edge does.
  if (err instanceof UnstorableText)
    return invalidRequest('the request holds a NUL character or a lone surrogate (RFC 7493 §2.1)');
  if (isTransientError(err))
    return temporarilyUnavailable((err as Error).message ?? 'dependency unavailable', err);
  return err;
}
