import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { OAuthError, toWire } from '#lib/oauth-errors';
import { type Observable, throwError } from 'rxjs';
import { asOAuthError } from './transient-errors.js';

/**
 * Every service's last word on an error: the caller receives `toWire(err)` (code, safe
 * description, status) and nothing else; anything that is not an OAuthError is logged here and
 * leaves as server_error.
 */
@Catch()
export class OAuthRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcError');

  catch(thrown: unknown): Observable<never> {
    const exception = asOAuthError(thrown);
    if (!(exception instanceof OAuthError)) {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    } else if (exception.error === 'server_error' || exception.error === 'temporarily_unavailable') {
      this.logger.warn(`${exception.error}: ${exception.detail ?? exception.description}`);
    }
    return throwError(() => toWire(exception));
  }
}
