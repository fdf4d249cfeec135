import { type ArgumentsHost, Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { OAuthError, toWire } from '#lib/oauth-errors';
import { type Observable, throwError } from 'rxjs';
import { acceptCorrelationId, CORRELATION_HEADER, correlationIdOf } from './correlation.js';
import { asOAuthError } from './transient-errors.js';

/**
 * Every service's last word on an error: the caller receives `toWire(err)` (code, safe
 * description, status) and nothing else; anything that is not an OAuthError is logged here and
 * leaves as server_error.
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
