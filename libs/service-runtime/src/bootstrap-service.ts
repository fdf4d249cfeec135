import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { loadConfig } from '#lib/config';
import { requireDependencies } from './dependencies.js';
import { logLevels } from './log-levels.js';
import { natsConnectionOptions } from './nats-options.js';
import { OAuthRpcExceptionFilter } from './rpc-exception.filter.js';

/**
 * Starts one service: checks its dependencies, then serves its NATS handlers in the service's
 * queue group so that replicas share the requests.
 */
export async function bootstrapService(
  module: unknown,
  service: { name: string; queue: string },
): Promise<void> {
  const config = loadConfig();
  await requireDependencies({
    databaseUrl: config.databaseUrl,
    natsServers: config.natsServers,
    natsAuth: { user: config.natsUser, pass: config.natsPassword, token: config.natsToken },
  });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module as never, {
    transport: Transport.NATS,
    options: { ...natsConnectionOptions(config, service.name), queue: service.queue },
    logger: logLevels(config.logLevel),
  });
  app.useGlobalFilters(new OAuthRpcExceptionFilter());
  app.enableShutdownHooks();
  await app.listen();
  console.log(
    `${service.name} listening on NATS ${config.natsServers.join(',')} (subjects ${config.subjectPrefix}.*)`,
  );
}
