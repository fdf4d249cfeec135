import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { OAuthError, toWire } from '#lib/oauth-errors';
import { answeredByService, reasonCode } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendOAuthError } from './responses.js';

/**
 * The gateway's one exit for errors: OAuth errors keep their code, status and headers
 * (RFC 6749 §5.2); Nest's own HTTP errors (unknown route) become JSON without internals;
 * everything else is server_error. No stack trace, SQL or subject ever reaches the caller.
 */
@Catch()
export class OAuthHttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const correlationId = String(host.switchToHttp().getRequest<FastifyRequest>().id);
    if (exception instanceof OAuthError) {
      if (exception.error === 'invalid_client' && !answeredByService(exception))
        this.clientAuthenticationFailed(exception, host, correlationId);
      else if (exception.status >= 500)
        this.logger.warn({
          msg: `${exception.error}: ${exception.detail ?? exception.description}`,
          correlationId,
        });
      sendOAuthError(reply, exception);
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Fastify's own 4xx errors (body too large, malformed) arrive here as HttpException too.
      const error = status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : 'invalid_request';
      const description =
        status === 404 ? 'no such endpoint' : status === 413 ? 'request body too large' : 'request refused';
      sendOAuthError(reply, new OAuthError(error, description, { status }));
      return;
    }
    this.logger.error({
      msg: exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      correlationId,
    });
    sendOAuthError(reply, exception);
  }

  /**
   * A client authentication refused here, before any service saw it (a malformed Basic header, an
   * unsupported scheme or assertion type: RFC 6749 §5.2 invalid_client), is logged at warn like
   * the services' refusals: the client id presented in the form, if any, and a reason code.
   */
  private clientAuthenticationFailed(exception: OAuthError, host: ArgumentsHost, correlationId: string) {
    const body = host.switchToHttp().getRequest<FastifyRequest>().body;
    const clientId = typeof body === 'string' ? new URLSearchParams(body).get('client_id') : null;
    this.logger.warn({
      msg: 'client authentication failed',
      ...(clientId ? { client_id: clientId.slice(0, 256) } : {}),
      reason: reasonCode(exception.detail ?? exception.description),
      correlationId,
    });
  }
}

export { toWire };
