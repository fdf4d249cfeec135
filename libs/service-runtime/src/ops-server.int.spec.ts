import 'reflect-metadata';
import type { Server } from 'node:http';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadConfig } from '#lib/config';
import pg from 'pg';
import { Logger } from '@nestjs/common';
import { serverUrl } from './dependencies.js';
import { inFlight } from './in-flight.js';
import { startMetrics } from './metrics.js';
import { natsConnectionOptions } from './nats-options.js';
import { opsAddress, type OpsDependencies, startOpsServer } from './ops-server.js';

/**
 * The operations listener (docs/operations.md, "Health and metrics") on @nestjs/terminus, against
 * the machine's Postgres and NATS: the body and status codes the Kubernetes probes rely on.
 */
describe('operations listener', () => {
  const config = loadConfig();
  const servers: Server[] = [];
  const pools: pg.Pool[] = [];
  let nats: NatsConnection;

  beforeAll(async () => {
    startMetrics('ops-test');
    nats = await connect(natsConnectionOptions(config, 'ops-test'));
  });

  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    for (const p of pools) await p.end();
    if (!nats.isClosed()) await nats.close();
  });

  const pool = (url: string) => {
    const p = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 1000, max: 1 });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const listen = async (deps: OpsDependencies) => {
    const server = await startOpsServer('127.0.0.1', await freePort(), deps, new Logger());
    servers.push(server!);
    return (path: string) => fetch(`${opsAddress(server)}${path}`);
  };

  it('answers live, and ready with every dependency up', async () => {
    const get = await listen({ dataSource: pool(serverUrl(config.databaseUrl)), nats: async () => nats });
    const live = await get('/health/live');
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: 'up', nats: 'up' } });
  });

  it('says 503 with postgres down when the pool cannot reach Postgres', async () => {
    const get = await listen({
      dataSource: pool('postgres://postgres@127.0.0.1:1/authz'),
      nats: async () => nats,
    });
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { postgres: 'down', nats: 'up' } });
  });

  it('says 503 within the check timeout when Postgres hangs', async () => {
    const get = await listen({ dataSource: { query: () => new Promise(() => undefined) } });
    const started = Date.now();
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2900);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { postgres: 'down' } });
  });

  it('says 503 with nats down once the connection is closed', async () => {
    const own = await connect(natsConnectionOptions(config, 'ops-test-closed'));
    const get = await listen({ nats: async () => own });
    expect((await get('/health/ready')).status).toBe(200);
    await own.close();
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { nats: 'down' } });
  });

  it('says 503 as soon as shutdown has begun, and serves metrics', async () => {
    const get = await listen({ nats: async () => nats });
    inFlight.draining = true;
    try {
      const ready = await get('/health/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'shutting down' });
    } finally {
      inFlight.draining = false;
    }
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toMatch(/^# HELP /m);
  });

  it('is off on port 0', async () => {
    expect(await startOpsServer('127.0.0.1', 0, {}, new Logger())).toBeUndefined();
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
