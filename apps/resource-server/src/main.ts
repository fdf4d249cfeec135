import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, loadResourceServerConfig } from '#lib/config';
import { createPino, exitOnConfigurationError, jsonLogger } from '#lib/service-runtime';
import type { FastifyInstance } from 'fastify';

const { config, rs } = (() => {
  try {
    return { config: loadConfig(), rs: loadResourceServerConfig() };
  } catch (err) {
    return exitOnConfigurationError('resource-server', err);
  }
})();
// Imported once the configuration is known to be valid: the module reads it when imported.
const { ResourceServerModule } = await import('./resource-server.module.js');
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
