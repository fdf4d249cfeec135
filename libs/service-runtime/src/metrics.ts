import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one process (prom-client), served on its operations port at /metrics.
 * Every series carries the label `app`. Labels hold only bounded values: route patterns, subjects
 * without prefix, registered grant types, outcomes; never a client id or a token.
 */
export const registry = new Registry();
let started = false;

export function startMetrics(app: string): void {
  if (started) return;
  started = true;
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
}

const fast = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const families = {
  httpRequests: () =>
    new Counter({
      name: 'authz_http_requests_total',
      help: 'HTTP requests answered by the gateway, per route, method, status and grant type',
      labelNames: ['route', 'method', 'status', 'grant_type'] as const,
      registers: [],
    }),
  httpDuration: () =>
    new Histogram({
      name: 'authz_http_request_duration_seconds',
      help: 'HTTP request latency at the gateway, per route, method, status class (2xx, 4xx, 5xx) and grant type',
      labelNames: ['route', 'method', 'status', 'grant_type'] as const,
      buckets: fast,
      registers: [],
    }),
  tokensIssued: () =>
    new Counter({
      name: 'authz_tokens_issued_total',
      help: 'Access tokens issued, per grant type',
      labelNames: ['grant_type'] as const,
      registers: [],
    }),
  loginAttempts: () =>
    new Counter({
      name: 'authz_login_attempts_total',
      help: 'Login form submissions, per outcome: succeeded, failed (a password checked and wrong), throttled (429), busy (503)',
      labelNames: ['outcome'] as const,
      registers: [],
    }),
  logoutNotifications: () =>
    new Counter({
      name: 'authz_logout_notifications_total',
      help: 'Back-Channel Logout deliveries, per outcome: delivered, retry (failed, tried again later), failed (given up)',
      labelNames: ['outcome'] as const,
      registers: [],
    }),
  tokensRevoked: () =>
    new Counter({
      name: 'authz_tokens_revoked_total',
      help: 'Tokens revoked (RFC 7009) by a revocation that recorded an event',
      registers: [],
    }),
  eventAppendDuration: () =>
    new Histogram({
      name: 'authz_event_append_duration_seconds',
      help: 'Latency of one append transaction to the event store',
      buckets: fast,
      registers: [],
    }),
  eventAppendBatchSize: () =>
    new Histogram({
      name: 'authz_event_append_batch_size',
      help: 'Events written by one append transaction',
      buckets: [1, 2, 3, 5, 10, 20, 50, 100],
      registers: [],
    }),
  projectionLag: () =>
    new Gauge({
      name: 'authz_projection_lag_events',
      help: 'Events in the store not yet folded into a projection (head position minus checkpoint)',
      labelNames: ['projection'] as const,
      registers: [],
    }),
  natsRequestDuration: () =>
    new Histogram({
      name: 'authz_nats_request_duration_seconds',
      help: 'Latency of NATS requests made by this process, per subject and outcome',
      labelNames: ['subject', 'outcome'] as const,
      buckets: fast,
      registers: [],
    }),
  natsRequestTimeouts: () =>
    new Counter({
      name: 'authz_nats_request_timeouts_total',
      help: 'NATS requests made by this process that got no answer in time',
      labelNames: ['subject'] as const,
      registers: [],
    }),
  natsHandled: () =>
    new Counter({
      name: 'authz_nats_requests_handled_total',
      help: 'NATS requests handled by this service, per subject and outcome (ok or the OAuth error code)',
      labelNames: ['subject', 'outcome'] as const,
      registers: [],
    }),
  relayLag: () =>
    new Gauge({
      name: 'authz_relay_lag_events',
      help: 'Events in the store not yet published to JetStream by the relay (head position minus the relay position), per stream; only the leading relay reports it',
      labelNames: ['stream'] as const,
      registers: [],
    }),
  auditCheckpointPosition: () =>
    new Gauge({
      name: 'authz_audit_checkpoint_position',
      help: "Global position of the last signed checkpoint of the events' hash chain this process wrote",
      registers: [],
    }),
  auditCheckpointTimestamp: () =>
    new Gauge({
      name: 'authz_audit_checkpoint_timestamp_seconds',
      help: 'When this process wrote the last signed checkpoint of the hash chain (Unix time)',
      registers: [],
    }),
  dbPoolConnections: () =>
    new Gauge({
      name: 'authz_db_pool_connections',
      help: 'Postgres connections of this process, per state: total (open) and idle',
      labelNames: ['state'] as const,
      registers: [],
    }),
  dbPoolWaiting: () =>
    new Gauge({
      name: 'authz_db_pool_waiting_requests',
      help: 'Queries waiting for a Postgres connection of this process (the pool is exhausted: DATABASE_POOL_SIZE)',
      registers: [],
    }),
  natsHandleDuration: () =>
    new Histogram({
      name: 'authz_nats_request_handle_duration_seconds',
      help: 'Time this service took to answer a NATS request, per subject',
      labelNames: ['subject'] as const,
      buckets: fast,
      registers: [],
    }),
};

type Families = typeof families;
export type MetricName = keyof Families;
export type Metrics = { [K in MetricName]: ReturnType<Families[K]> };

/**
 * The metric families, each registered on first use: a process exposes the families it uses and
 * no others (a gateway has no event-store histograms, a token service no HTTP ones).
 */
export const metrics = {} as Metrics;
for (const name of Object.keys(families) as MetricName[]) {
  let made: Metrics[MetricName] | undefined;
  Object.defineProperty(metrics, name, {
    enumerable: true,
    get: () => {
      if (!made) {
        made = families[name]();
        registry.registerMetric(made);
      }
      return made;
    },
  });
}

/** Registers families now, so that they are exposed (at zero) before their first observation. */
export function useMetrics(...names: MetricName[]): void {
  for (const name of names) void metrics[name];
}

/** Every family this code can register (what the monitoring check validates queries against). */
export const METRIC_NAMES = Object.keys(families) as MetricName[];

/** A bounded status label: the class of an HTTP status code (`2xx` … `5xx`). */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** Projections report their lag through a callback evaluated at each scrape. */
const lagSources = new Map<string, () => Promise<number>>();

export function reportProjectionLag(projection: string, lag: () => Promise<number>): void {
  useMetrics('projectionLag');
  lagSources.set(projection, lag);
}

/** The relay's lag, evaluated at each scrape: a number while this process leads, else undefined. */
let relayLagSource: { stream: string; lag: () => Promise<number | undefined> } | undefined;

export function reportRelayLag(stream: string, lag: () => Promise<number | undefined>): void {
  relayLagSource = { stream, lag };
}

/** What a connection pool tells of itself (node-postgres' Pool: totalCount, idleCount, waitingCount). */
export interface PoolGauges {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

let poolSource: (() => PoolGauges | undefined) | undefined;

/** The process's Postgres pool, read at each scrape. */
export function reportDatabasePool(pool: () => PoolGauges | undefined): void {
  useMetrics('dbPoolConnections', 'dbPoolWaiting');
  poolSource = pool;
}

async function readRelayLag(): Promise<void> {
  if (!relayLagSource) return;
  try {
    const lag = await relayLagSource.lag();
    // A follower reports no series: the leader's is the one that counts.
    if (lag === undefined) metrics.relayLag.reset();
    else metrics.relayLag.set({ stream: relayLagSource.stream }, lag);
  } catch {
    // the database is away: the last value stays
  }
}

function readPool(): void {
  const pool = poolSource?.();
  if (!pool) return;
  metrics.dbPoolConnections.set({ state: 'total' }, pool.totalCount);
  metrics.dbPoolConnections.set({ state: 'idle' }, pool.idleCount);
  metrics.dbPoolWaiting.set(pool.waitingCount);
}

export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  readPool();
  await Promise.all([
    readRelayLag(),
    ...[...lagSources].map(async ([projection, lag]) => {
      try {
        metrics.projectionLag.set({ projection }, await lag());
      } catch {
        // the database is away: the last value stays
      }
    }),
  ]);
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** `authz.token.grant` → `token.grant`: the prefix differs per installation, the label should not. */
export function subjectLabel(subject: string): string {
  const i = subject.indexOf('.');
  return i < 0 ? subject : subject.slice(i + 1);
}
