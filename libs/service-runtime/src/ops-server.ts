import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inFlight } from './in-flight.js';
import { renderMetrics } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check: () => Promise<unknown>;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, fail) => setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

/**
 * The operations listener of one process (OPS_HOST:OPS_PORT), separate from the public port:
 * - GET /health/live: 200 while the process runs (liveness);
 * - GET /health/ready: 200 when every check passes and the process is not shutting down, else 503
 *   with the failing checks (readiness, and the startup probe);
 * - GET /metrics: Prometheus text format.
 */
export async function startOpsServer(
  host: string,
  port: number,
  checks: ReadinessCheck[],
): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return json(405, { status: 'method not allowed' });
    if (path === '/health/live') return json(200, { status: 'ok' });
    if (path === '/health/ready') {
      if (inFlight.draining) return json(503, { status: 'shutting down' });
      void Promise.allSettled(checks.map((c) => withTimeout(c.check(), 2000))).then((results) => {
        const info = Object.fromEntries(
          checks.map((c, i) => [c.name, results[i]!.status === 'fulfilled' ? 'up' : 'down']),
        );
        const ok = results.every((r) => r.status === 'fulfilled');
        json(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks: info });
      });
      return;
    }
    if (path === '/metrics') {
      void renderMetrics().then(({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
      });
      return;
    }
    json(404, { status: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return server;
}

export function opsAddress(server: Server | undefined): string {
  if (!server) return 'off';
  const a = server.address() as AddressInfo;
  return `http://${a.address}:${a.port}`;
}
