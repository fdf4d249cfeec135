import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { loadConfig } from '#lib/config';
import { createEdgeAdapter, installEdge, SERVICES_PROXY } from '#lib/http-edge';
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
import type { FastifyInstance } from 'fastify';
import { AdminModule } from './admin.module.js';

const config = loadConfig();
const log = createPino('admin', config.logLevel);
startMetrics('admin');
await startTracing('admin', config);
await requireDependencies(natsRequirements(config), (line) => log.fatal({ context: 'Startup' }, line));

const app = await NestFactory.create<NestFastifyApplication>(AdminModule, createEdgeAdapter(config), {
  logger: new JsonLogger(log),
  bodyParser: false,
});
const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
installEdge(fastify, { log, maxBodyBytes: config.maxBodyBytes });

// The admin API, described with OpenAPI (decorators on the controllers).
const openApi = SwaggerModule.createDocument(
  app,
  new DocumentBuilder()
    .setTitle('Authorization server: admin API')
    .setDescription(
      'Bearer: an access token of this issuer with audience ADMIN_AUDIENCE and scope `admin`, from a client ' +
        'an administrator granted `admin` (client credentials grant), or the bootstrap ADMIN_TOKEN when set. ' +
        'Served on the admin listener only.',
    )
    .addBearerAuth()
    .build(),
);
fastify.get('/openapi.json', (_request, reply) => {
  void reply.header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(openApi));
});

app.enableShutdownHooks();
await app.listen(config.adminHttpPort, config.adminHttpHost);
const proxy = app.get<ClientNats>(SERVICES_PROXY);
const ops = await startOpsServer(config.opsHost, config.opsPortFor('admin'), [
  { name: 'nats', check: async () => (await proxy.connect()).flush() },
]);
log.info({
  msg: `admin plane listening on http://${config.adminHttpHost}:${config.adminHttpPort}`,
  ops: opsAddress(ops),
});
