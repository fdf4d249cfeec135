import { Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { ClientsModule, type ClientNats, Transport } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CONFIG_SLICES, type Config, configSlice, loadConfig } from '#lib/config';
import {
  authzConfig,
  authzConfigModule,
  createPino,
  exitOnConfigurationError,
  jsonLogger,
  natsConnectionOptions,
  natsRequirements,
  opsAddress,
  requireDependencies,
  startMetrics,
  startOpsServer,
  startTracing,
} from '#lib/service-runtime';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import { createEdgeAdapter, installEdge } from './edge.js';
import { HealthHttpController } from './health.http.controller.js';
import { OAuthHttpExceptionFilter } from './oauth-http.filter.js';
import { requestLogging } from './request-logging.js';
import { EDGE_CONFIG, rpcClientProvider, SERVICES_PROXY } from './rpc.provider.js';

/**
 * The Nest module of an HTTP listener: its controllers, the health endpoints, one NATS connection
 * as the listener's own bus user (`name`), the request/reply client over it, and the OAuth error
 * filter (one place decides what leaves the process).
 */
export function edgeModule(name: string, controllers: Type[]): ModuleMetadata {
  // Read when the module is built, not when it is imported: startEdgeApp reports a configuration
  // error first (exit status 78).
  return {
    imports: [
      authzConfigModule(),
      ClientsModule.registerAsync([
        {
          name: SERVICES_PROXY,
          inject: [authzConfig.KEY],
          useFactory: (config: Config) => ({
            transport: Transport.NATS,
            options: natsConnectionOptions(config, name),
          }),
        },
      ]),
    ],
    controllers: [...controllers, HealthHttpController],
    providers: [
      {
        provide: EDGE_CONFIG,
        inject: [authzConfig.KEY],
        useFactory: (config: Config) =>
          configSlice(config, [...CONFIG_SLICES.bus, ...CONFIG_SLICES.gateway, ...CONFIG_SLICES.brand]),
      },
      rpcClientProvider,
      { provide: APP_FILTER, useClass: OAuthHttpExceptionFilter },
    ],
  };
}

/** A listener's module with nestjs-pino's request logging beside it. */
@Module({})
class EdgeRootModule {}

export interface EdgeApp {
  app: NestFastifyApplication;
  fastify: FastifyInstance;
  config: Config;
}

/**
 * Starts an HTTP listener: its dependencies checked, the edge's limits and hooks installed,
 * `routes` given the chance to add what is its own, then the listener and its operations port.
 */
export async function startEdgeApp(options: {
  name: string;
  module: unknown;
  listen: (config: Config) => { host: string; port: number };
  label?: (request: FastifyRequest, route: string) => string;
  routes?: (edge: EdgeApp) => void;
}): Promise<EdgeApp> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    exitOnConfigurationError(options.name, err);
  }
  const log = createPino(options.name, config.logLevel);
  startMetrics(options.name);
  await startTracing(options.name, config);
  await requireDependencies(natsRequirements(config), (line) => log.fatal({ context: 'Startup' }, line));
  const logging = requestLogging(log);
  const app = await NestFactory.create<NestFastifyApplication>(
    { module: EdgeRootModule, imports: [options.module as never, LoggerModule.forRoot(logging)] },
    createEdgeAdapter(config),
    {
      logger: jsonLogger(log, logging),
      bodyParser: false,
    },
  );
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  installEdge(fastify, {
    maxBodyBytes: config.maxBodyBytes,
    ...(options.label ? { label: options.label } : {}),
  });
  const edge = { app, fastify, config };
  options.routes?.(edge);
  // SIGTERM: readiness turns 503, the listener stops accepting, requests in flight are answered,
  // then the NATS client drains (Nest closes the proxy after the HTTP server).
  app.enableShutdownHooks();
  const { host, port } = options.listen(config);
  await app.listen(port, host);
  const proxy = app.get<ClientNats>(SERVICES_PROXY);
  const ops = await startOpsServer(
    config.opsHost,
    config.opsPortFor(options.name),
    {
      nats: () => proxy.connect(),
    },
    jsonLogger(log),
  );
  log.info({
    msg: `${options.name} listening on http://${host}:${port}`,
    issuer: config.issuer,
    ops: opsAddress(ops),
  });
  return edge;
}
