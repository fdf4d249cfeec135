import { type ArgumentsHost, Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { OAuthError, toWire } from '#lib/oauth-errors';
import { type Observable, throwError } from 'rxjs';
import { acceptCorrelationId, CORRELATION_HEADER, correlationIdOf } from './correlation.js';
import { asOAuthError } from './transient-errors.js';

/**
 * Every service's last word on an error: the caller receives `toWire(err)` (code, safe
 * description, status) and nothing else; anything that is not an OAuthError is logged here and
 * leaves as server_error. A failed client authentication (RFC 6749 §5.2 invalid_client) is logged
 * at warn with the client id presented and a reason code, never the credential.
 */
@Catch()
export class OAuthRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcError');

  catch(thrown: unknown, host?: ArgumentsHost): Observable<never> {
    const exception = asOAuthError(thrown);
    if (!(exception instanceof OAuthError)) {
      this.logger.error({
        msg: exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
        correlationId: correlationIdAt(host),
      });
    } else if (exception.error === 'invalid_client') {
      this.logger.warn({
        msg: 'client authentication failed',
        ...clientIdAt(host),
        reason: reasonCode(exception.detail),
        correlationId: correlationIdAt(host),
      });
    } else if (exception.error === 'server_error' || exception.error === 'temporarily_unavailable') {
      this.logger.warn({
        msg: `${exception.error}: ${exception.detail ?? exception.description}`,
        correlationId: correlationIdAt(host),
      });
    }
    return throwError(() => toWire(exception));
  }
}

function correlationIdAt(host: ArgumentsHost | undefined): string | undefined {
  if (host?.getType() !== 'rpc') return undefined;
  const rpc = host.switchToRpc();
  return (
    correlationIdOf(rpc.getData()) ??
    acceptCorrelationId(rpc.getContext<NatsContext | undefined>()?.getHeaders?.()?.get(CORRELATION_HEADER))
  );
}

/** The client id the request presented, bounded (it is the caller's input). */
function clientIdAt(host: ArgumentsHost | undefined): { client_id?: string } {
  if (host?.getType() !== 'rpc') return {};
  const data: unknown = host.switchToRpc().getData();
  const credentials =
    typeof data === 'object' && data !== null ? (data as { credentials?: unknown }).credentials : undefined;
  const clientId =
    typeof credentials === 'object' && credentials !== null
      ? (credentials as { clientId?: unknown }).clientId
      : undefined;
  return typeof clientId === 'string' ? { client_id: clientId.slice(0, 256) } : {};
}

/**
 * The internal detail of a failure as a reason code: `wrong secret` → `wrong_secret`,
 * `assertion rejected: <why>` → `assertion_rejected` (what follows a colon is left out).
 */
export function reasonCode(detail: string | undefined): string {
  const head = (detail ?? '').split(':')[0]!.toLowerCase();
  const code = head
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return code === '' ? 'unspecified' : code;
}
