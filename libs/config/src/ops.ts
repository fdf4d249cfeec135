import { ConfigError, type Env, int, str } from './env.js';

/** Default operations port of each app (one host runs them all under `npm start`). */
export const DEFAULT_OPS_PORTS: Record<string, number> = {
  gateway: 9400,
  'client-registry': 9401,
  consent: 9402,
  token: 9403,
  introspection: 9404,
  admin: 9405,
};

export interface OpsConfig {
  /** OPS_HOST: where the operations listener (/health/*, /metrics) binds. Default 127.0.0.1. */
  opsHost: string;
  /**
   * OPS_PORT: port of the operations listener; 0 turns it off. Default per app: gateway 9400,
   * client-registry 9401, consent 9402, token 9403, introspection 9404.
   */
  opsPort: number | undefined;
  opsPortFor(app: string): number;
  /**
   * SHUTDOWN_TIMEOUT_MS: on SIGTERM, how long a process waits for the requests it accepted to be
   * answered before it closes its connections anyway. Default 10000.
   */
  shutdownTimeoutMs: number;
  /**
   * OTEL_TRACES_EXPORTER: `none` (default: no tracing), `otlp` (OTLP/HTTP to
   * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, default
   * http://localhost:4318/v1/traces) or `console`. The other OTEL_* variables of the
   * OpenTelemetry SDK (OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER, …) apply as documented there.
   */
  tracesExporter: 'none' | 'otlp' | 'console';
}

export function readOpsConfig(env: Env): OpsConfig {
  const tracesExporter = str(env, 'OTEL_TRACES_EXPORTER', 'none') as OpsConfig['tracesExporter'];
  if (!['none', 'otlp', 'console'].includes(tracesExporter)) {
    throw new ConfigError(`OTEL_TRACES_EXPORTER must be none, otlp or console, got "${tracesExporter}"`);
  }
  return {
    opsHost: str(env, 'OPS_HOST', '127.0.0.1'),
    opsPort: env.OPS_PORT ? int(env, 'OPS_PORT', 0, 0, 65535) : undefined,
    opsPortFor(app: string): number {
      return this.opsPort ?? DEFAULT_OPS_PORTS[app] ?? 0;
    },
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 300000),
    tracesExporter,
  };
}
