import {
  metrics,
  registry,
  renderMetrics,
  reportDatabasePool,
  reportRelayLag,
  statusClass,
  useMetrics,
} from './metrics.js';

/** The value of one series in the exposition text, or undefined when the series is absent. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics read at scrape time', () => {
  afterAll(() => registry.resetMetrics());

  it('reports the Postgres pool as the pool tells it, at each scrape', async () => {
    const pool = { totalCount: 10, idleCount: 2, waitingCount: 0 };
    reportDatabasePool(() => pool);
    let { body } = await renderMetrics();
    expect(sample(body, 'authz_db_pool_connections{state="total"}')).toBe(10);
    expect(sample(body, 'authz_db_pool_connections{state="idle"}')).toBe(2);
    expect(sample(body, 'authz_db_pool_waiting_requests')).toBe(0);
    pool.idleCount = 0;
    pool.waitingCount = 7;
    ({ body } = await renderMetrics());
    expect(sample(body, 'authz_db_pool_connections{state="idle"}')).toBe(0);
    expect(sample(body, 'authz_db_pool_waiting_requests')).toBe(7);
  });

  it('reports the relay lag while the process leads, and no series once it does not', async () => {
    let lag: number | undefined = 42;
    reportRelayLag('AUTHZ_EVENTS', async () => lag);
    expect(sample((await renderMetrics()).body, 'authz_relay_lag_events{stream="AUTHZ_EVENTS"}')).toBe(42);
    lag = undefined;
    expect(
      sample((await renderMetrics()).body, 'authz_relay_lag_events{stream="AUTHZ_EVENTS"}'),
    ).toBeUndefined();
  });

  it('keeps the last relay lag when reading it fails (the database is away)', async () => {
    reportRelayLag('AUTHZ_EVENTS', async () => 5);
    await renderMetrics();
    reportRelayLag('AUTHZ_EVENTS', async () => {
      throw new Error('connection terminated');
    });
    expect(sample((await renderMetrics()).body, 'authz_relay_lag_events{stream="AUTHZ_EVENTS"}')).toBe(5);
  });
});

describe('metric families', () => {
  it('registers a family only once the process uses it', () => {
    expect(registry.getSingleMetric('authz_login_attempts_total')).toBeUndefined();
    expect(registry.getSingleMetric('authz_tokens_issued_total')).toBeUndefined();
    useMetrics('loginAttempts');
    expect(registry.getSingleMetric('authz_login_attempts_total')).toBeDefined();
    expect(registry.getSingleMetric('authz_tokens_issued_total')).toBeUndefined();
    // Registered once, whatever the number of uses.
    metrics.loginAttempts.inc({ outcome: 'succeeded' });
    useMetrics('loginAttempts');
    expect(registry.getMetricsAsArray().filter((m) => m.name === 'authz_login_attempts_total')).toHaveLength(
      1,
    );
  });

  it('labels the HTTP latency with the status class, a bounded value', async () => {
    metrics.httpDuration.observe(
      { route: '/token', method: 'POST', status: statusClass(400), grant_type: 'client_credentials' },
      0.01,
    );
    const { body } = await renderMetrics();
    expect(
      sample(
        body,
        'authz_http_request_duration_seconds_count{route="/token",method="POST",status="4xx",grant_type="client_credentials"}',
      ),
    ).toBe(1);
    expect([statusClass(200), statusClass(302), statusClass(503), statusClass(0), statusClass(999)]).toEqual([
      '2xx',
      '3xx',
      '5xx',
      'other',
      'other',
    ]);
  });
});
