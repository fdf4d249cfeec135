import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import {
  NatsHealthIndicator,
  OPS_DEPENDENCIES,
  type OpsDependencies,
  PostgresHealthIndicator,
} from './health.indicators.js';
import { HealthController, MetricsController } from './ops.controllers.js';

/** The operations listener's application: health through @nestjs/terminus, and /metrics. */
@Module({})
export class OpsModule {
  static with(deps: OpsDependencies): DynamicModule {
    return {
      module: OpsModule,
      // A failing check answers 503 with its name; a log line at every probe would only repeat it.
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: OPS_DEPENDENCIES, useValue: deps },
        PostgresHealthIndicator,
        NatsHealthIndicator,
      ],
    };
  }
}
