import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { Logger } from 'pino';

/** What a request's log line says beyond its status and duration, set by the edge's onSend hook. */
export interface RequestLogFields {
  method: string;
  route: string;
  callerRequestId?: string;
  grantType?: string;
}

export const REQUEST_LOG_FIELDS = Symbol('requestLogFields');

type LoggedRequest = IncomingMessage & { id?: unknown; [REQUEST_LOG_FIELDS]?: RequestLogFields };

function line(req: LoggedRequest, res: ServerResponse, durationMs: unknown) {
  const fields = req[REQUEST_LOG_FIELDS] ?? { method: req.method ?? '', route: 'unmatched' };
  return { ...fields, status: res.statusCode, durationMs };
}

/**
 * One line per answered request through pino-http (nestjs-pino's middleware), under the request's
 * correlation id: method, route pattern, status, duration and the bounded labels the edge sets.
 * Never the URL's query, a header or the body, where credentials travel (RFC 6749 §2.3.1, §4.1.2;
 * RFC 6265 cookies): the line is built from named fields, not serialized from the request.
 */
export function requestLogging(log: Logger): Params {
  return {
    // Every path, the root and unmatched ones included (the default `{/*splat}` matches none on
    // this Fastify adapter).
    forRoutes: ['/', '*path'],
    pinoHttp: {
      logger: log,
      // The id Fastify gave the request (edge.ts genReqId), so the line and the answer's
      // X-Correlation-Id agree.
      genReqId: (req) => String((req as LoggedRequest).id),
      customAttributeKeys: { reqId: 'correlationId', responseTime: 'durationMs' },
      quietReqLogger: true,
      quietResLogger: true,
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      customSuccessMessage: () => 'http request',
      customErrorMessage: () => 'http request',
      customSuccessObject: (req, res, value: { durationMs?: unknown }) =>
        line(req as LoggedRequest, res, value.durationMs),
      customErrorObject: (req, res, _err, value: { durationMs?: unknown }) =>
        line(req as LoggedRequest, res, value.durationMs),
    },
  };
}
