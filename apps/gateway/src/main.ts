import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '#lib/config';
import { OAuthError } from '#lib/oauth-errors';
import {
  acceptCorrelationId,
  CORRELATION_HEADER,
  createPino,
  inFlight,
  JsonLogger,
  metrics,
  newCorrelationId,
  opsAddress,
  natsAuth,
  requireDependencies,
  SpanKind,
  startMetrics,
  startOpsServer,
  startTracing,
  stopTracing,
  trace,
  tracer,
  tracingEnabled,
} from '#lib/service-runtime';
import { context as otelContext, propagation, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { ClientNats } from '@nestjs/microservices';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayModule } from './gateway.module.js';
import { SERVICES_PROXY } from './gateway.tokens.js';
import { CORS_ENDPOINTS, CorsPolicy } from './http/cors.js';
import { sendOAuthError } from './http/responses.js';
import { RPC_CLIENT } from './rpc.provider.js';

const config = loadConfig();
const log = createPino('gateway', config.logLevel);
startMetrics('gateway');
await startTracing('gateway', config);
await requireDependencies(
  {
    natsServers: config.natsServers,
    natsAuth: natsAuth(config),
  },
  (line) => log.fatal({ context: 'Startup' }, line),
);
void config.adminToken; // fail at start, not at the first admin request

const adapter = new FastifyAdapter({
  bodyLimit: config.maxBodyBytes,
  // Checklist INP-01: oversized request lines are refused before routing.
  routerOptions: { maxParamLength: 500 },
  trustProxy: process.env.TRUST_PROXY === 'true',
  // The correlation id: the caller's X-Correlation-Id or X-Request-Id when well-formed, else new.
  genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
    acceptCorrelationId(req.headers['x-correlation-id']) ??
    acceptCorrelationId(req.headers['x-request-id']) ??
    newCorrelationId(),
});
const app = await NestFactory.create<NestFastifyApplication>(GatewayModule, adapter, {
  logger: new JsonLogger(log),
  bodyParser: false,
});
const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

// Bodies are read as text and parsed by the endpoints themselves (RFC 6749 §3.2 form rules);
// every media type is accepted here so that the endpoint can answer invalid_request itself.
fastify.removeAllContentTypeParsers();
fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: config.maxBodyBytes }, (_req, body, done) =>
  done(null, body),
);

// Bounded label values: a registered grant type or `other`, never what the caller typed.
const GRANT_TYPES = new Set([
  'client_credentials',
  'authorization_code',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
]);
function grantTypeOf(request: FastifyRequest, route: string): string {
  if (route !== '/token' || typeof request.body !== 'string') return '';
  const g = new URLSearchParams(request.body).get('grant_type') ?? '';
  return GRANT_TYPES.has(g) ? g : 'other';
}

// Per request: its route pattern (read once) and, when traces are on, its SERVER span (a caller's
// traceparent is its parent), made the active context once the body is read so that the NATS
// requests of the handler are its children.
declare module 'fastify' {
  interface FastifyRequest {
    routePattern: string;
    span: Span | undefined;
  }
}
fastify.decorateRequest('routePattern', 'unmatched');
fastify.decorateRequest('span', undefined);
const traced = tracingEnabled();
fastify.addHook('onRequest', (request, _reply, done) => {
  inFlight.begin();
  request.routePattern = request.routeOptions.url ?? 'unmatched';
  if (traced) {
    request.span = tracer().startSpan(
      `HTTP ${request.method} ${request.routePattern}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'authz.correlation_id': String(request.id) },
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
fastify.addHook('onClose', async () => {
  await stopTracing();
});
// One log line and one observation per request: route pattern, never the URL's query or a header.
fastify.addHook('onResponse', (request, reply, done) => {
  inFlight.end();
  const route = request.routePattern;
  const grantType = grantTypeOf(request, route);
  const seconds = reply.elapsedTime / 1000;
  metrics.httpRequests.inc({
    route,
    method: request.method,
    status: String(reply.statusCode),
    grant_type: grantType,
  });
  metrics.httpDuration.observe({ route, method: request.method, grant_type: grantType }, seconds);
  const span = request.span;
  if (span) {
    span.setAttribute('http.route', route);
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
  if (log.isLevelEnabled('info')) {
    log.info({
      msg: 'http request',
      correlationId: String(request.id),
      method: request.method,
      route,
      status: reply.statusCode,
      ...(grantType ? { grantType } : {}),
      durationMs: Math.round(reply.elapsedTime),
    });
  }
  done();
});

fastify.addHook('onSend', (request, reply, payload, done) => {
  reply.header(CORRELATION_HEADER, String(request.id));
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header('X-Frame-Options', 'DENY');
  done(null, payload);
});

// Errors raised by Fastify itself (body too large, malformed content) leave as OAuth JSON too.
fastify.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
  const status = error.statusCode ?? 500;
  if (status === 413)
    return sendOAuthError(
      reply,
      new OAuthError('invalid_request', 'request body too large', { status: 413 }),
    );
  if (status >= 400 && status < 500)
    return sendOAuthError(reply, new OAuthError('invalid_request', 'malformed request', { status }));
  return sendOAuthError(reply, error);
});

// RFC 9110 §15.5.6: other methods get 405 with Allow (checklist TREQ-01/02, decision 7, META-06).
const methodsOf: Record<string, string[]> = {
  '/token': ['POST'],
  '/introspect': ['POST'],
  '/revoke': ['POST'],
  '/.well-known/oauth-authorization-server': ['GET', 'HEAD'],
  '/jwks': ['GET', 'HEAD'],
  // Decision 15 (AUTHZ-50): GET and POST; checklist UI-07: state changes only by POST.
  '/authorize': ['GET', 'HEAD', 'POST'],
  '/authorize/resume': ['GET', 'HEAD'],
  '/authorize/consent': ['POST'],
  '/login': ['POST'],
  '/account': ['GET', 'HEAD'],
  '/account/revoke': ['POST'],
};
for (const [url, allowed] of Object.entries(methodsOf)) {
  fastify.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !allowed.includes(m)),
    url,
    handler: (_request, reply) => {
      reply.header('Allow', allowed.join(', '));
      sendOAuthError(
        reply,
        new OAuthError('method_not_allowed', `use ${allowed.join(' or ')}`, { status: 405 }),
      );
    },
  });
}

// Decision 15 (TREQ-15): CORS only for the origins of public clients' redirect URIs.
const cors = new CorsPolicy(app.get(RPC_CLIENT), 10_000);
for (const [url, methods] of Object.entries(CORS_ENDPOINTS)) {
  fastify.route({
    method: 'OPTIONS',
    url,
    handler: async (request, reply) => {
      if (await cors.allows(request.headers.origin)) {
        reply
          .header('Access-Control-Allow-Origin', request.headers.origin as string)
          .header('Access-Control-Allow-Methods', methods)
          .header('Access-Control-Allow-Headers', 'Authorization, Content-Type')
          .header('Access-Control-Max-Age', '600');
      }
      void reply.header('Vary', 'Origin').header('Allow', `${methods}, OPTIONS`).status(204).send();
    },
  });
}
fastify.addHook('onSend', (request, reply, payload, done) => {
  if (!(request.routePattern in CORS_ENDPOINTS) || request.method === 'OPTIONS') return done(null, payload);
  reply.header('Vary', 'Origin');
  const origin = request.headers.origin;
  if (origin === undefined) return done(null, payload);
  void cors.allows(origin).then(
    (allowed) => {
      if (allowed) {
        reply
          .header('Access-Control-Allow-Origin', origin)
          .header('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After');
      }
      done(null, payload);
    },
    () => done(null, payload),
  );
});

// The admin and registration APIs, described with OpenAPI (decorators on the controllers).
const openApi = SwaggerModule.createDocument(
  app,
  new DocumentBuilder()
    .setTitle('Authorization server: admin and registration API')
    .setDescription(
      'Admin API bearer: an access token of this issuer with scope `admin` (client credentials grant), ' +
        'or the bootstrap ADMIN_TOKEN. POST /register takes an initial access token; /register/{client_id} ' +
        'the registration access token (RFC 7591, RFC 7592).',
    )
    .addServer(config.issuer)
    .addBearerAuth()
    .build(),
);
fastify.get('/openapi.json', (_request, reply) => {
  void reply
    .header('Cache-Control', 'public, max-age=300')
    .type('application/json')
    .send(JSON.stringify(openApi));
});

// SIGTERM: readiness turns 503, the listener stops accepting, requests in flight are answered, then
// the NATS client drains (Nest closes the proxy after the HTTP server).
app.enableShutdownHooks();
fastify.addHook('onClose', async () => {
  inFlight.draining = true;
});
await app.listen(config.httpPort, config.httpHost);
const proxy = app.get<ClientNats>(SERVICES_PROXY);
const ops = await startOpsServer(config.opsHost, config.opsPortFor('gateway'), [
  { name: 'nats', check: async () => (await proxy.connect()).flush() },
]);
log.info({
  msg: `gateway listening on http://${config.httpHost}:${config.httpPort}`,
  issuer: config.issuer,
  ops: opsAddress(ops),
});
