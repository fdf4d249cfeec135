import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, loadExampleClientConfig } from '#lib/config';
import { installViews } from '#lib/http-edge';
import { createPino, exitOnConfigurationError, jsonLogger } from '#lib/service-runtime';
import type { FastifyInstance } from 'fastify';
import { EXAMPLE_CONFIG, ExampleClientHttpController } from './example-client.http.controller.js';
import { EXAMPLE_VIEWS_DIR } from './page.js';

const { example, log } = (() => {
  try {
    return { example: loadExampleClientConfig(), log: createPino('example-client', loadConfig().logLevel) };
  } catch (err) {
    return exitOnConfigurationError('example-client', err);
  }
})();

@Module({
  controllers: [ExampleClientHttpController],
  providers: [{ provide: EXAMPLE_CONFIG, useValue: example }],
})
class ExampleClientModule {}

const app = await NestFactory.create<NestFastifyApplication>(ExampleClientModule, new FastifyAdapter(), {
  logger: jsonLogger(log),
});
const issuerOrigin = new URL(example.issuer).origin;
const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
installViews(fastify, EXAMPLE_VIEWS_DIR);
fastify.addHook('onSend', async (_request, reply, payload) => {
  reply.header('Cache-Control', 'no-store');
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Referrer-Policy', 'no-referrer');
  // CSP 3 form-action also covers the redirects after a form's POST: "Sign out" goes on to the
  // issuer's end-session endpoint.
  reply.header(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${issuerOrigin}; frame-ancestors 'none'; base-uri 'none'`,
  );
  return payload;
});
app.enableShutdownHooks();
await app.listen(example.port, example.host);
log.info({ msg: `Example App on ${example.url}`, issuer: example.issuer, clientId: example.clientId });
