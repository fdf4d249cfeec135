import type { HttpEdgeConfig } from '#lib/config';
import {
  callerRequestIdOf,
  CORRELATION_HEADER,
  inFlight,
  metrics,
  newCorrelationId,
  statusClass,
  SpanKind,
  stopTracing,
  trace,
  tracer,
  tracingEnabled,
  useMetrics,
} from '#lib/service-runtime';
import { context as otelContext, propagation, type Span, SpanStatusCode } from '@opentelemetry/api';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { REQUEST_LOG_FIELDS, type RequestLogFields } from './request-logging.js';

/**
 * The Fastify adapter of an HTTP listener (the public gateway, the admin plane), held to the
 * operator's limits:
 * - the whole request, and its headers, within HTTP_REQUEST_TIMEOUT_MS / HTTP_HEADERS_TIMEOUT_MS
 *   (OAuth 2.1 §7.11: resources an attacker can hold are bounded); Node checks them every
 *   `connectionsCheckingInterval`;
 * - X-Forwarded-For believed only for the configured proxy hops or addresses, never every hop.
 */
export function createEdgeAdapter(config: HttpEdgeConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.maxBodyBytes,
    // OAuth 2.1 §7.11: oversized request lines are refused before routing.
    routerOptions: { maxParamLength: 500 },
    trustProxy: trustedHops(config.trustProxy),
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    http: {
      requestTimeout: config.httpRequestTimeoutMs,
      headersTimeout: config.httpHeadersTimeoutMs,
      connectionsCheckingInterval: Math.min(5000, Math.max(250, Math.floor(config.httpHeadersTimeoutMs / 4))),
    },
    // The correlation id is the server's own, always (libs/service-runtime correlation.ts); the
    // caller's X-Correlation-Id or X-Request-Id is kept as `callerRequestId` only.
    // The raw request carries it too, for the request log line (request-logging.ts).
    genReqId: (raw: object) => {
      const id = newCorrelationId();
      (raw as { id?: string }).id = id;
      return id;
    },
  });
}

/**
 * proxy-addr's trust function: hop `i` counts from the socket's peer (0) outwards. A hop count
 * trusts the nearest `n` hops, as Express does (Fastify itself refuses a bare number): only safe
 * when the listener is reachable through those proxies alone, which the NetworkPolicy ensures in
 * Kubernetes; an address list (CIDRs) checks each hop instead.
 */
function trustedHops(
  trust: HttpEdgeConfig['trustProxy'],
): false | string[] | ((a: string, i: number) => boolean) {
  if (typeof trust === 'number') return trust === 0 ? false : (_address, hop) => hop < trust;
  return trust;
}

declare module 'fastify' {
  interface FastifyRequest {
    routePattern: string;
    span: Span | undefined;
    /** The caller's X-Correlation-Id or X-Request-Id, when well-formed: untrusted, logged beside the id. */
    callerRequestId: string | undefined;
  }
}

export interface EdgeOptions {
  maxBodyBytes: number;
  /** An extra bounded label of a request's metrics and log line (e.g. the grant type at /token). */
  label?: (request: FastifyRequest, route: string) => string;
}

/**
 * What every listener does for every request: bodies read as text (each endpoint parses its own,
 * RFC 6749 §3.2), one metrics observation by route pattern and the fields of its log line
 * (request-logging.ts; never the URL's query or a header), a trace span when tracing is on, the server's correlation id (and the caller's
 * request id beside it) and security headers on every answer (@fastify/helmet). Fastify's own errors (body too
 * large, malformed) reach Nest's error handler, the only one set on the instance (a second
 * setErrorHandler in the same scope is what Fastify warns of as FSTWRN004), and leave through
 * OAuthHttpExceptionFilter as OAuth JSON, never a stack.
 */
export function installEdge(fastify: FastifyInstance, options: EdgeOptions): void {
  readBodiesAsText(fastify, options.maxBodyBytes);
  fastify.decorateRequest('routePattern', 'unmatched');
  fastify.decorateRequest('span', undefined);
  fastify.decorateRequest('callerRequestId', undefined);
  traceRequests(fastify);
  fastify.addHook('onClose', async () => {
    inFlight.draining = true;
    await stopTracing();
  });
  observeResponses(fastify, options);
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header(CORRELATION_HEADER, String(request.id));
    const grantType = options.label?.(request, request.routePattern) ?? '';
    (request.raw as { [REQUEST_LOG_FIELDS]?: RequestLogFields })[REQUEST_LOG_FIELDS] = {
      method: request.method,
      route: request.routePattern,
      ...(request.callerRequestId ? { callerRequestId: request.callerRequestId } : {}),
      ...(grantType ? { grantType } : {}),
    };
    done(null, payload);
  });
  void fastify.register(helmet, {
    global: true,
    // Each page sets its own policy (RFC 9700 §4.16: no framing, no script); JSON needs none.
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    // RFC 9700 §4.2.4: no Referer carries a code or state onwards.
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** Every body as text within the limit, whatever its media type: each endpoint parses its own. */
function readBodiesAsText(fastify: FastifyInstance, maxBodyBytes: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );
}

/**
 * Counts the request in flight, notes its route pattern and the caller's request id, and (tracing
 * on) opens its server span, continuing the caller's W3C trace context, active while the handler runs.
 */
function traceRequests(fastify: FastifyInstance): void {
  const traced = tracingEnabled();
  fastify.addHook('onRequest', (request, _reply, done) => {
    inFlight.begin();
    request.routePattern = request.routeOptions.url ?? 'unmatched';
    request.callerRequestId = callerRequestIdOf(request.headers);
    if (traced) {
      request.span = tracer().startSpan(
        `HTTP ${request.method} ${request.routePattern}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'authz.correlation_id': String(request.id),
            ...(request.callerRequestId ? { 'authz.caller_request_id': request.callerRequestId } : {}),
          },
        },
        propagation.extract(otelContext.active(), request.headers),
      );
    }
    done();
  });
  // The handler runs with the request's span as the active context (tracing on only).
  if (traced)
    fastify.addHook('preHandler', (request, _reply, done) => {
      const span = request.span;
      if (span) otelContext.with(trace.setSpan(otelContext.active(), span), done);
      else done();
    });
}

/** Per answered request: its metrics by route pattern and the end of its span. */
function observeResponses(fastify: FastifyInstance, options: EdgeOptions): void {
  useMetrics('httpRequests', 'httpDuration');
  fastify.addHook('onResponse', (request, reply, done) => {
    inFlight.end();
    const route = request.routePattern;
    const grantType = options.label?.(request, route) ?? '';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc({
      route,
      method: request.method,
      status: String(reply.statusCode),
      grant_type: grantType,
    });
    metrics.httpDuration.observe(
      { route, method: request.method, status: statusClass(reply.statusCode), grant_type: grantType },
      seconds,
    );
    const span = request.span;
    if (span) {
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
