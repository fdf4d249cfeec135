import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '#lib/config';
import { OAuthError } from '#lib/oauth-errors';
import { logLevels, requireDependencies } from '#lib/service-runtime';
import type { FastifyInstance } from 'fastify';
import { GatewayModule } from './gateway.module.js';
import { sendOAuthError } from './http/responses.js';

const config = loadConfig();
await requireDependencies({
  natsServers: config.natsServers,
  natsAuth: { user: config.natsUser, pass: config.natsPassword, token: config.natsToken },
});
void config.adminToken; // fail at start, not at the first admin request

const adapter = new FastifyAdapter({
  bodyLimit: config.maxBodyBytes,
  // Checklist INP-01: oversized request lines are refused before routing.
  maxParamLength: 500,
  trustProxy: process.env.TRUST_PROXY === 'true',
});
const app = await NestFactory.create<NestFastifyApplication>(GatewayModule, adapter, {
  logger: logLevels(config.logLevel),
  bodyParser: false,
});
const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

// Bodies are read as text and parsed by the endpoints themselves (RFC 6749 §3.2 form rules);
// every media type is accepted here so that the endpoint can answer invalid_request itself.
fastify.removeAllContentTypeParsers();
fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: config.maxBodyBytes }, (_req, body, done) =>
  done(null, body),
);

fastify.addHook('onSend', async (_request, reply, payload) => {
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header('X-Frame-Options', 'DENY');
  return payload;
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

app.enableShutdownHooks();
await app.listen(config.httpPort, config.httpHost);
console.log(`gateway listening on http://${config.httpHost}:${config.httpPort} (issuer ${config.issuer})`);
