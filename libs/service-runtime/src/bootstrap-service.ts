import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '#lib/config';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { exitOnConfigurationError } from './configuration-exit.js';
import { natsRequirements, requireDependencies } from './dependencies.js';
import { DrainingServerNats } from './draining-server-nats.js';
import { DATA_SOURCE, NATS_CONNECTION } from './tokens.js';
import { createPino, jsonLogger } from './logger.js';
import { startMetrics } from './metrics.js';
import { natsConnectionOptions } from './nats-options.js';
import { opsAddress, startOpsServer } from './ops-server.js';
import { OAuthRpcExceptionFilter } from './rpc-exception.filter.js';
import { startTracing } from './tracing.js';

/**
 * Starts one service: checks its dependencies, then serves its NATS handlers in the service's
 * queue group so that replicas share the requests, with health and metrics on its operations port.
 * A configuration it cannot run with ends it with CONFIGURATION_ERROR_EXIT_CODE.
 */
export async function bootstrapService(
  module: unknown,
  service: { name: string; queue: string },
): Promise<void> {
  try {
    await start(module, service);
  } catch (err) {
    exitOnConfigurationError(service.name, err);
  }
}

async function start(module: unknown, service: { name: string; queue: string }): Promise<void> {
  const config = loadConfig();
  const log = createPino(service.name, config.logLevel);
  const logger = jsonLogger(log);
  startMetrics(service.name);
  await startTracing(service.name, config);
  await requireDependencies(natsRequirements(config, config), (line) =>
    log.fatal({ context: 'Startup' }, line),
  );
  const app = await NestFactory.createMicroservice(module as never, {
    strategy: new DrainingServerNats(
      { ...natsConnectionOptions(config, service.name), queue: service.queue },
      config.shutdownTimeoutMs,
    ),
    logger,
    // Errors while the module is built (a secret the configuration lacks) reach the caller, which
    // tells a configuration error from the rest, instead of Nest's exit(1).
    abortOnError: false,
  });
  app.useGlobalFilters(new OAuthRpcExceptionFilter());
  app.enableShutdownHooks();
  await app.listen();
  const optional = <T>(token: symbol): T | undefined => {
    try {
      return app.get<T>(token, { strict: false });
    } catch {
      return undefined;
    }
  };
  const dataSource = optional<DataSource>(DATA_SOURCE);
  const nats = optional<NatsConnection>(NATS_CONNECTION);
  const ops = await startOpsServer(
    config.opsHost,
    config.opsPortFor(service.name),
    { ...(dataSource ? { dataSource } : {}), ...(nats ? { nats: () => Promise.resolve(nats) } : {}) },
    logger,
  );
  logger.log(
    {
      msg: `${service.name} listening on NATS`,
      nats: config.natsServers.join(','),
      subjects: `${config.subjectPrefix}.*`,
      ops: opsAddress(ops),
    },
    'Startup',
  );
}
