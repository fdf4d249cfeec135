import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpsDependencies } from './ops/health.indicators.js';
import { OpsModule } from './ops/ops.module.js';

export type { OpsDependencies } from './ops/health.indicators.js';

/**
 * The operations listener of one process (OPS_HOST:OPS_PORT), separate from the public port:
 * - GET /health/live: 200 while the process runs (liveness);
 * - GET /health/ready: 200 when every dependency answers (Postgres when the process has one, NATS)
 *   and the process is not shutting down, else 503 with the failing checks (readiness, startup);
 * - GET /metrics: Prometheus text format.
 * It stays up while the process drains, so that readiness can say 503 until the end. `logger` is the
 * process's own: Nest makes the logger of the last application created the logger of the process.
 */
export async function startOpsServer(
  host: string,
  port: number,
  deps: OpsDependencies,
  logger: LoggerService,
): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const app = await NestFactory.create<NestFastifyApplication>(OpsModule.with(deps), new FastifyAdapter(), {
    logger,
  });
  await app.listen(port, host);
  const server = app.getHttpServer() as Server;
  server.unref();
  return server;
}

export function opsAddress(server: Server | undefined): string {
  if (!server) return 'off';
  const a = server.address() as AddressInfo;
  return `http://${a.address}:${a.port}`;
}
