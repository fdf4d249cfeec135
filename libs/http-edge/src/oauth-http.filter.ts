import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { OAuthError, toWire } from '#lib/oauth-errors';
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
      if (exception.status >= 500)
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
}

export { toWire };
