import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '#lib/config';
import { createEdgeAdapter, installEdge, RPC_CLIENT, sendOAuthError, SERVICES_PROXY } from '#lib/http-edge';
import { OAuthError } from '#lib/oauth-errors';
import {
  createPino,
  JsonLogger,
  natsRequirements,
  opsAddress,
  requireDependencies,
  startMetrics,
  startOpsServer,
  startTracing,
} from '#lib/service-runtime';
import type { ClientNats } from '@nestjs/microservices';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayModule } from './gateway.module.js';
import { CORS_ENDPOINTS, CorsPolicy } from './http/cors.js';

const config = loadConfig();
const log = createPino('gateway', config.logLevel);
startMetrics('gateway');
await startTracing('gateway', config);
await requireDependencies(natsRequirements(config), (line) => log.fatal({ context: 'Startup' }, line));

const app = await NestFactory.create<NestFastifyApplication>(GatewayModule, createEdgeAdapter(config), {
  logger: new JsonLogger(log),
  bodyParser: false,
});
const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

// Bounded label values: a registered grant type or `other`, never what the caller typed.
const GRANT_TYPES = new Set(['client_credentials', 'authorization_code', 'refresh_token']);
installEdge(fastify, {
  log,
  maxBodyBytes: config.maxBodyBytes,
  label: (request: FastifyRequest, route: string) => {
    if (route !== '/token' || typeof request.body !== 'string') return '';
    const g = new URLSearchParams(request.body).get('grant_type') ?? '';
    return GRANT_TYPES.has(g) ? g : 'other';
  },
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

// SIGTERM: readiness turns 503, the listener stops accepting, requests in flight are answered, then
// the NATS client drains (Nest closes the proxy after the HTTP server).
app.enableShutdownHooks();
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
