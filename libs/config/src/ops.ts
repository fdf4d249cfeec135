import { z } from 'zod';
import { int, oneOf, settings } from './env.js';

/** Default operations port of each app (one host runs them all under `npm start`). */
export const DEFAULT_OPS_PORTS: Record<string, number> = {
  gateway: 9400,
  'client-registry': 9401,
  consent: 9402,
  token: 9403,
  introspection: 9404,
  admin: 9405,
};

export const opsSettings = settings({
  /** OPS_HOST: where the operations listener (/health/*, /metrics) binds. Default 127.0.0.1. */
  opsHost: ['OPS_HOST', z.string().default('127.0.0.1')],
  /**
   * OPS_PORT: port of the operations listener; 0 turns it off. Default per app: gateway 9400,
   * client-registry 9401, consent 9402, token 9403, introspection 9404.
   */
  opsPort: ['OPS_PORT', int(0, 65535).optional()],
  /**
   * SHUTDOWN_TIMEOUT_MS: on SIGTERM, how long a process waits for the requests it accepted to be
   * answered before it closes its connections anyway. Default 10000.
   */
  shutdownTimeoutMs: ['SHUTDOWN_TIMEOUT_MS', int(0, 300000).default(10000)],
  /**
   * OTEL_TRACES_EXPORTER: `none` (default: no tracing), `otlp` (OTLP/HTTP to
   * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, default
   * http://localhost:4318/v1/traces) or `console`. The other OTEL_* variables of the
   * OpenTelemetry SDK (OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER, …) apply as documented there.
   */
  tracesExporter: ['OTEL_TRACES_EXPORTER', oneOf(['none', 'otlp', 'console']).default('none')],
}).transform((ops) => ({
  ...ops,
  opsPortFor: (app: string): number => ops.opsPort ?? DEFAULT_OPS_PORTS[app] ?? 0,
}));

export type OpsConfig = z.output<typeof opsSettings>;
