import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, loadResourceServerConfig } from '#lib/config';
import { createPino, jsonLogger } from '#lib/service-runtime';
import type { FastifyInstance } from 'fastify';
import { ResourceServerModule } from './resource-server.module.js';

const config = loadConfig();
const rs = loadResourceServerConfig();
const log = createPino('resource-server', config.logLevel);
if (!rs.clientSecret) {
  log.warn({
    msg: 'RESOURCE_SERVER_CLIENT_SECRET is not set: revocation-sensitive endpoints (/api/me/email) will answer 503',
  });
}

const app = await NestFactory.create<NestFastifyApplication>(ResourceServerModule, new FastifyAdapter(), {
  logger: jsonLogger(log),
});
const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
fastify.addHook('onSend', async (_request, reply, payload) => {
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Cache-Control', 'no-store');
  return payload;
});
app.enableShutdownHooks();
await app.listen(rs.port, rs.host);
log.info({
  msg: `resource server listening on http://${rs.host}:${rs.port}`,
  issuer: rs.issuer,
  audience: rs.audience,
});
