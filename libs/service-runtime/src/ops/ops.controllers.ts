import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { type HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { inFlight } from '../in-flight.js';
import { renderMetrics } from '../metrics.js';
import {
  NatsHealthIndicator,
  OPS_DEPENDENCIES,
  type OpsDependencies,
  PostgresHealthIndicator,
} from './health.indicators.js';

type Readiness = { status: 'ok' | 'unavailable'; checks: Record<string, string> };

/** Terminus' result in the shape the probes and docs/operations.md know: `checks: {name: up|down}`. */
function readiness(result: HealthCheckResult): Readiness {
  const checks = Object.fromEntries(
    Object.entries(result.details).map(([name, detail]) => [name, detail.status === 'up' ? 'up' : 'down']),
  );
  return { status: result.status === 'ok' ? 'ok' : 'unavailable', checks };
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: PostgresHealthIndicator,
    private readonly nats: NatsHealthIndicator,
    @Inject(OPS_DEPENDENCIES) private readonly deps: OpsDependencies,
  ) {}

  /** Liveness: 200 while the process runs. */
  @Get('live')
  @Header('cache-control', 'no-store')
  live() {
    return { status: 'ok' };
  }

  /** Readiness (and the startup probe): 503 with the failing checks, or as soon as shutdown began. */
  @Get('ready')
  @Header('cache-control', 'no-store')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    if (inFlight.draining) {
      reply.status(503);
      return { status: 'shutting down' };
    }
    const checks = [
      ...(this.deps.dataSource ? [() => this.postgres.pingCheck('postgres')] : []),
      ...(this.deps.nats ? [() => this.nats.isConnected('nats')] : []),
    ];
    try {
      return readiness(await this.health.check(checks));
    } catch (err) {
      const result = (err as { getResponse?: () => unknown }).getResponse?.() as
        HealthCheckResult | undefined;
      if (!result?.details) throw err;
      reply.status(503);
      return readiness(result);
    }
  }
}

@Controller('metrics')
export class MetricsController {
  /** Prometheus text format, the families this process records. */
  @Get()
  async metrics(@Res({ passthrough: true }) reply: FastifyReply) {
    const { contentType, body } = await renderMetrics();
    reply.header('content-type', contentType);
    return body;
  }
}
