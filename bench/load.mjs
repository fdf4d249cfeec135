// Load generation shared by the benchmarks: autocannon over loopback, a warm-up before each measurement.
import autocannon from 'autocannon';

export const DURATION = Number(process.env.BENCH_DURATION ?? 10);
export const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
export const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
export const form = { 'content-type': 'application/x-www-form-urlencoded' };
export const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export function cannon(options) {
  return new Promise((done, fail) => {
    autocannon({ timeout: 10, ...options }, (err, result) => (err ? fail(err) : done(result)));
  });
}

/** What an autocannon result says of throughput, latency and failures. */
export function loadFigures(r) {
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/** One measurement: a warm-up, then DURATION seconds; returns the figures of the measured part. */
export async function measure(name, connections, options) {
  await cannon({ ...options, connections, duration: WARMUP });
  const r = await cannon({ ...options, connections, duration: DURATION });
  const row = { workload: name, connections, ...loadFigures(r), ok: r['2xx'] };
  console.error(
    `  ${name} @${connections}: ${row.rps} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, errors ${row.errors}, non-2xx ${row.non2xx}`,
  );
  return row;
}
