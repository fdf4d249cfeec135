import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { NatsConnection } from '@nats-io/transport-node';

/** What the readiness checks of one process reach; a process without a database has no `dataSource`. */
export interface OpsDependencies {
  dataSource?: { query: (sql: string) => Promise<unknown> };
  /** Awaited at each check: the gateway's NATS client connects lazily and reconnects. */
  nats?: () => Promise<NatsConnection>;
}

export const OPS_DEPENDENCIES = Symbol('OPS_DEPENDENCIES');

/** A dependency that does not answer within this time counts as down (the probes time out at 3 s). */
export const CHECK_TIMEOUT_MS = 2000;

/** Postgres is up when the process's own pool answers `SELECT 1`. */
@Injectable()
export class PostgresHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(OPS_DEPENDENCIES) private readonly deps: OpsDependencies,
  ) {}

  pingCheck(key: 'postgres') {
    const dataSource = this.deps.dataSource;
    return this.indicators
      .check(key)
      .attempt(() => dataSource!.query('SELECT 1'))
      .withTimeout(CHECK_TIMEOUT_MS);
  }
}

/** NATS is up when the connection is open and the server answers a PING (`flush`). */
@Injectable()
export class NatsHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(OPS_DEPENDENCIES) private readonly deps: OpsDependencies,
  ) {}

  isConnected(key: 'nats') {
    const connection = this.deps.nats!;
    return this.indicators
      .check(key)
      .attempt(async () => {
        const nc = await connection();
        if (nc.isClosed()) throw new Error('connection closed');
        await nc.flush();
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }
}
