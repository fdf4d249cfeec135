#!/usr/bin/env node
// Soak benchmark (issue 10; not run by CI): N minutes of client credentials + introspection at
// half the measured peak throughput, printing errors, RSS of every process over time, latency and
// the token_state projection lag.
//
//   npm run build && node bench/soak.mjs                 against `npm start` (http://127.0.0.1:8080)
//   SOAK_START=1 SOAK_MINUTES=1 node bench/soak.mjs      starts a system of its own first
//
// Environment:
//   SOAK_MINUTES    length of the soak (default 10)
//   SOAK_RATE       operations per second (an operation = one token request + one introspection);
//                   default: half the peak measured first for PEAK_SECONDS (default 15)
//   SOAK_START=1    start the five built processes on free ports, with a database, NATS subject prefix
//                   and JetStream stream of their own (DATABASE_URL's server, NATS_URL), removed after
//   BASE_URL        the gateway (default http://127.0.0.1:8080); OPS_URLS: name=url,… of the
//                   operations listeners (default npm start's 9400..9404)
//   CLIENT_ID, CLIENT_SECRET   a client_credentials client with scope read; else one is registered
//                   with ADMIN_TOKEN (environment, or .data/secrets.env of npm start)
//   RSS_GROWTH_MB (default 64), LAG_LIMIT (default 1000 events): the bounds the verdict checks
// Exit status 1 when a request failed or a bound was passed.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const PEAK_SECONDS = Number(process.env.PEAK_SECONDS ?? 15);
const RSS_GROWTH_MB = Number(process.env.RSS_GROWTH_MB ?? 64);
const LAG_LIMIT = Number(process.env.LAG_LIMIT ?? 1000);
const SAMPLE_MS = 10_000;
const APPS = ['client-registry', 'consent', 'token', 'introspection', 'gateway'];
/** Operations ports under `npm start` (docs/configuration.md, OPS_PORT). */
const NPM_START_OPS = {
  gateway: 9400,
  'client-registry': 9401,
  consent: 9402,
  token: 9403,
  introspection: 9404,
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (line) => process.stdout.write(`${line}\n`);

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** The whole system on free ports (like test/support/system.ts), for SOAK_START=1. */
async function startOwnSystem() {
  const entry = (app) => `${ROOT}dist/apps/${app}/src/main.js`;
  if (!existsSync(entry('gateway'))) throw new Error('dist/ is missing: run `npm run build` first');
  const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `soak_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const dbUrl = new URL(server);
  dbUrl.pathname = `/${name}`;
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: dbUrl.toString(),
    NATS_URL: process.env.NATS_URL ?? '127.0.0.1:4222',
    NATS_SUBJECT_PREFIX: name.replace(/_/g, '-'),
    EVENTS_STREAM: name.toUpperCase(),
    ISSUER: `http://127.0.0.1:${port}`,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    SECRET_HASH_KEYS: `h1:${randomBytes(32).toString('base64url')}`,
    COOKIE_SEALING_KEYS: `c1:${randomBytes(32).toString('base64url')}`,
    CSRF_KEYS: `x1:${randomBytes(32).toString('base64url')}`,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    PERSONAL_DATA_KEY: randomBytes(32).toString('base64url'),
  };
  execFileSync(process.execPath, [`${ROOT}dist/apps/cli/src/main.js`, 'migrate'], { env, stdio: 'ignore' });
  const children = [];
  const ops = {};
  for (const app of APPS) {
    const opsPort = await freePort();
    ops[app] = `http://127.0.0.1:${opsPort}`;
    children.push(
      spawn(process.execPath, [entry(app)], { env: { ...env, OPS_PORT: String(opsPort) }, stdio: 'ignore' }),
    );
  }
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${base}/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error('the system did not become ready');
    await sleep(300);
  }
  return {
    base,
    ops,
    adminToken: env.ADMIN_TOKEN,
    children,
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await sleep(3000);
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      const a = new pg.Client({ connectionString: server.toString() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
      // The JetStream stream EVENTS_STREAM is left for .ci/jetstream-cleanup.js-style removal.
      try {
        const { connect } = await import('@nats-io/transport-node');
        const { jetstreamManager } = await import('@nats-io/jetstream');
        const nc = await connect({ servers: env.NATS_URL });
        await (await jetstreamManager(nc)).streams.delete(env.EVENTS_STREAM).catch(() => undefined);
        await nc.close();
      } catch {
        // NATS unreachable: nothing to remove
      }
    },
  };
}

function adminTokenFromFiles() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const file = `${ROOT}.data/secrets.env`;
  if (!existsSync(file)) return undefined;
  return /^ADMIN_TOKEN=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim();
}

async function clientFor(base, adminToken) {
  if (process.env.CLIENT_ID && process.env.CLIENT_SECRET)
    return { id: process.env.CLIENT_ID, secret: process.env.CLIENT_SECRET };
  if (!adminToken) throw new Error('set CLIENT_ID and CLIENT_SECRET, or ADMIN_TOKEN to register a client');
  const res = await fetch(`${base}/admin/clients`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      client_name: 'soak',
      grant_types: ['client_credentials'],
      scope: 'read',
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  const body = await res.json();
  if (res.status >= 300)
    throw new Error(`cannot register the soak client: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.client_id, secret: body.client_secret };
}

/** One operation: a token, then its introspection (must be active). Resolves with an error or null. */
async function operation(base, auth, sink) {
  const started = performance.now();
  try {
    const t = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: 'grant_type=client_credentials&scope=read',
    });
    const tb = await t.json();
    if (t.status !== 200) return `token ${t.status} ${tb.error}`;
    const i = await fetch(`${base}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: `token=${encodeURIComponent(tb.access_token)}`,
    });
    const ib = await i.json();
    if (i.status !== 200) return `introspect ${i.status} ${ib.error}`;
    if (ib.active !== true) return 'a fresh token introspected as inactive';
    return null;
  } catch (err) {
    return `connection: ${err.cause?.code ?? err.message}`;
  } finally {
    sink.latencies.push(performance.now() - started);
  }
}

async function metric(url, name, label = '') {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const re = new RegExp(`^${name}(?:\\{[^}]*${label}[^}]*\\})? ([0-9.e+-]+)$`, 'm');
    const m = re.exec(text);
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;

async function main() {
  const own = process.env.SOAK_START === '1' ? await startOwnSystem() : null;
  const base = own?.base ?? process.env.BASE_URL ?? 'http://127.0.0.1:8080';
  const ops =
    own?.ops ??
    Object.fromEntries(
      (
        process.env.OPS_URLS ??
        Object.entries(NPM_START_OPS)
          .map(([a, p]) => `${a}=http://127.0.0.1:${p}`)
          .join(',')
      )
        .split(',')
        .map((kv) => kv.split('=')),
    );
  try {
    const client = await clientFor(base, own?.adminToken ?? adminTokenFromFiles());
    const auth = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;

    let rate = Number(process.env.SOAK_RATE ?? 0);
    if (!rate) {
      const peakSink = { latencies: [] };
      let done = 0;
      const until = Date.now() + PEAK_SECONDS * 1000;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (Date.now() < until) {
            await operation(base, auth, peakSink);
            done++;
          }
        }),
      );
      const peak = done / PEAK_SECONDS;
      rate = Math.max(1, Math.floor(peak / 2));
      log(
        `peak: ${peak.toFixed(1)} operations/s (token + introspection) over ${PEAK_SECONDS} s; soak rate ${rate}/s`,
      );
    }

    log(`soak: ${MINUTES} min at ${rate} operations/s against ${base}`);
    log(
      'time   ops    errors  p50 ms  p99 ms  lag  ' +
        Object.keys(ops)
          .map((k) => `${k} MB`)
          .join('  '),
    );
    const errors = new Map();
    let total = 0;
    let inFlight = 0;
    const sink = { latencies: [] };
    const rss = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
    let maxLag = 0;
    const started = Date.now();
    const end = started + MINUTES * 60_000;
    let nextSample = started + SAMPLE_MS;
    let sent = 0;
    const sample = async () => {
      const sorted = sink.latencies.sort((a, b) => a - b);
      sink.latencies = [];
      const lag = ops.introspection
        ? await metric(ops.introspection, 'authz_projection_lag_events', 'token_state')
        : NaN;
      if (Number.isFinite(lag)) maxLag = Math.max(maxLag, lag);
      const mem = [];
      for (const [name, url] of Object.entries(ops)) {
        const mb = (await metric(url, 'process_resident_memory_bytes')) / 1024 / 1024;
        rss[name].push(mb);
        mem.push(mb.toFixed(0).padStart(6));
      }
      const errs = [...errors.values()].reduce((a, b) => a + b, 0);
      log(
        `${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s ${String(total).padStart(6)} ${String(errs).padStart(8)} ` +
          `${pct(sorted, 0.5).toFixed(1).padStart(7)} ${pct(sorted, 0.99).toFixed(1).padStart(7)} ${String(lag).padStart(4)}  ${mem.join('  ')}`,
      );
    };
    await sample();
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      while (sent < due && inFlight < 256) {
        sent++;
        inFlight++;
        void operation(base, auth, sink).then((err) => {
          inFlight--;
          total++;
          if (err) errors.set(err, (errors.get(err) ?? 0) + 1);
        });
      }
      if (Date.now() >= nextSample) {
        nextSample += SAMPLE_MS;
        await sample();
      }
      await sleep(5);
    }
    while (inFlight > 0) await sleep(50);
    await sample();

    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
    const growth = Object.fromEntries(
      Object.entries(rss).map(([k, v]) => [k, v.length > 2 ? v[v.length - 1] - v[1] : NaN]),
    );
    const bad = [];
    if (errorCount > 0) bad.push(`${errorCount} failed operations`);
    for (const [k, g] of Object.entries(growth))
      if (g > RSS_GROWTH_MB) bad.push(`${k} RSS grew ${g.toFixed(0)} MB`);
    if (maxLag > LAG_LIMIT) bad.push(`projection lag reached ${maxLag}`);
    log('');
    log('==================== soak figures ====================');
    log(
      `duration:        ${((Date.now() - started) / 60000).toFixed(1)} min at ${rate} operations/s (${(total / ((Date.now() - started) / 1000)).toFixed(1)}/s achieved)`,
    );
    log(`operations:      ${total} (${total * 2} requests)`);
    log(
      `errors:          ${errorCount}${errorCount ? ` (${[...errors].map(([e, n]) => `${e} ×${n}`).join('; ')})` : ''}`,
    );
    log(`projection lag:  max ${maxLag} events (token_state)`);
    log(`RSS, MB (first sample after the start → last; growth):`);
    for (const [k, v] of Object.entries(rss))
      log(
        `  ${k.padEnd(16)} ${v[1]?.toFixed(0)} → ${v[v.length - 1]?.toFixed(0)} (${growth[k] >= 0 ? '+' : ''}${growth[k]?.toFixed(0)})`,
      );
    log(
      `verdict:         ${bad.length ? `FAILED: ${bad.join('; ')}` : 'no error, memory flat, lag bounded'}`,
    );
    log('======================================================');
    process.exitCode = bad.length ? 1 : 0;
  } finally {
    await own?.stop();
  }
}

await main();
