// `npm run bench:retention`: a retention run on a big history while the server is under load
// (docs/privacy-and-retention.md "Retention"). A fresh system whose store holds BENCH_RETENTION_EVENTS
// (default 5,000,000) past events: expired client-credentials access tokens, hash-chained, recorded
// 200 days ago, so the policy (tokens kept 90 days after expiry) archives every one of them. Then,
// side by side in one run on one machine:
//  1. the capacity of client_credentials and introspection at 50 connections (closed loop), then
//     each at a steady rate of BENCH_RETENTION_LOAD (default 0.5) of its capacity, three windows
//     each with nothing else running: the baseline and its noise;
//  2. the same steady rates, window after window, while `retention run` (paced by
//     RETENTION_DUTY_CYCLE, default 50 %; runs of 10 archives) archives and deletes the expired
//     streams in batches, and after every third run the same two windows with no run going;
// with the p99 and the errors of each, the table before and after, `audit verify` before and after,
// a token_state rebuild compared with the live read model, and one archived stream restored and
// read back through the audit API.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { BenchSystem, freePort, ROOT } from './system.mjs';
import { DURATION, measure, WARMUP } from './load.mjs';
import { clientCredentials } from './workloads.mjs';

const EVENTS = Number(process.env.BENCH_RETENTION_EVENTS ?? 5_000_000);
const CONNECTIONS = 50;
const LOAD = Number(process.env.BENCH_RETENTION_LOAD ?? 0.5);
const BASELINE_WINDOWS = 3;
const IDLE_EVERY = Number(process.env.BENCH_RETENTION_IDLE_EVERY ?? 3);
const CHUNK = 20_000;
const DAY = 86_400_000;

const { eventHash, GENESIS_HASH } = await import('../dist/libs/event-store/src/index.js');

/**
 * Past history written straight into `events` (as a restore of an older database would), each
 * event chained to the one before it exactly as the append path chains it, so that the chain
 * verifies across the whole table before the run and across the archived gap after it.
 */
async function fill(system, count) {
  const started = performance.now();
  const base = Date.now() - 200 * DAY;
  let prev = GENESIS_HASH;
  for (let from = 1; from <= count; from += CHUNK) {
    const cols = {
      position: [],
      eventId: [],
      streamId: [],
      data: [],
      metadata: [],
      recordedAt: [],
      prevHash: [],
      hash: [],
    };
    for (let p = from; p < Math.min(count + 1, from + CHUNK); p++) {
      const jti = randomUUID();
      const recordedAt = new Date(base + p);
      const iat = Math.floor(recordedAt.getTime() / 1000);
      const client = `filler-client-${p % 1000}`;
      const event = {
        globalPosition: p,
        eventId: randomUUID(),
        streamId: `access-token-${jti}`,
        streamVersion: 1,
        type: 'AccessTokenIssued',
        schemaVersion: 1,
        data: {
          jti,
          clientId: client,
          sub: client,
          aud: ['urn:filler'],
          scope: ['read'],
          grantType: 'client_credentials',
          iat,
          exp: iat + 600,
          kid: 'filler',
        },
        metadata: { actor: `client:${client}` },
        recordedAt,
      };
      const hash = eventHash(prev, event);
      cols.position.push(p);
      cols.eventId.push(event.eventId);
      cols.streamId.push(event.streamId);
      cols.data.push(JSON.stringify(event.data));
      cols.metadata.push(JSON.stringify(event.metadata));
      cols.recordedAt.push(recordedAt.toISOString());
      cols.prevHash.push(prev);
      cols.hash.push(hash);
      prev = hash;
    }
    await system.query(
      `INSERT INTO events (global_position, event_id, stream_id, stream_version, type, schema_version,
                           data, metadata, recorded_at, prev_hash, hash)
       SELECT p, e::uuid, s, 1, 'AccessTokenIssued', 1, d::jsonb, m::jsonb, r::timestamptz,
              decode(ph, 'hex'), decode(h, 'hex')
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[]) AS t(p, e, s, d, m, r, ph, h)`,
      [
        cols.position,
        cols.eventId,
        cols.streamId,
        cols.data,
        cols.metadata,
        cols.recordedAt,
        cols.prevHash,
        cols.hash,
      ],
    );
    if ((from - 1) % 500_000 === 0) console.error(`  ${from - 1} events written`);
  }
  await system.query(`SELECT setval(pg_get_serial_sequence('events', 'global_position'), $1)`, [count]);
  await system.query(`VACUUM ANALYZE events`);
  await system.query(`CHECKPOINT`);
  await system.query(
    `INSERT INTO checkpoints (name, position) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position`,
    [`relay:${system.env.EVENTS_STREAM}`, count],
  );
  return (performance.now() - started) / 1000;
}

/**
 * Rows, the heap's size on disk, and what of it live rows hold (pgstattuple): DELETE makes space
 * reusable, it does not give the file back (VACUUM FULL or pg_repack would, under a lock).
 */
async function tableFigures(system) {
  await system.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
  const { rows } = await system.query(
    `SELECT t.tuple_count::bigint AS rows, t.table_len::bigint AS heap_bytes,
            t.tuple_len::bigint AS live_bytes, t.free_space::bigint AS free_bytes,
            pg_total_relation_size('events')::bigint AS total_bytes
       FROM pgstattuple('events') t`,
  );
  const mb = (v) => Number(v) / 2 ** 20;
  return {
    rows: Number(rows[0].rows),
    heapMB: mb(rows[0].heap_bytes),
    liveMB: mb(rows[0].live_bytes),
    freeMB: mb(rows[0].free_bytes),
    totalMB: mb(rows[0].total_bytes),
  };
}

async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

/** The CLI as a child process that keeps running while the load is measured. */
function cliInBackground(system, args) {
  const child = spawn(process.execPath, [resolve(ROOT, 'dist/apps/cli/src/main.js'), ...args], {
    env: { ...process.env, ...system.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const done = new Promise((resolveDone) =>
    child.on('exit', (code) => resolveDone({ code, stdout, stderr })),
  );
  return { child, done };
}

const archiveDir = mkdtempSync(join(tmpdir(), 'bench-retention-'));
// The manifests' signing key (RFC 8037 Ed25519 JWK), as an operator makes one.
const signingKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
const adminPort = await freePort();
const extraEnv = {
  RETENTION_ARCHIVE_DIR: archiveDir,
  RETENTION_SIGNING_KEY: JSON.stringify(signingKey),
  RETENTION_DUTY_CYCLE: process.env.RETENTION_DUTY_CYCLE ?? '50',
  // Runs of 10 archives, so that windows with no run can be measured between them.
  RETENTION_MAX_ARCHIVES: '10',
  ADMIN_HTTP_PORT: String(adminPort),
};
const system = await BenchSystem.start(extraEnv);
try {
  console.error(`store with ${EVENTS} expired, hash-chained events:`);
  const fillSeconds = await fill(system, EVENTS);
  console.error(`  filled in ${fillSeconds.toFixed(1)} s`);
  await system.launchAll();
  // The admin plane, for reading the audit API at the end.
  const adminApp = spawn(process.execPath, [resolve(ROOT, 'dist/apps/admin/src/main.js')], {
    env: { ...process.env, ...system.env, OPS_PORT: String(await freePort()) },
    stdio: 'ignore',
  });
  system.children.set('admin', adminApp);
  const caughtUp = await system.caughtUp();
  console.error(`  projections caught up in ${caughtUp.toFixed(1)} s`);
  const cc = await clientCredentials(system, 'bench-cc');

  const before = await tableFigures(system);
  const verifyBefore = await timed(async () =>
    JSON.parse(await system.cli(['audit', 'verify', '--json'], { timeout: 0 })),
  );
  console.error(
    `  audit verify before: intact ${verifyBefore.value.intact}, ${verifyBefore.value.checked} events, ${verifyBefore.seconds.toFixed(1)} s`,
  );

  console.error('capacity (closed loop, nothing else running):');
  const capCc = await measure('client_credentials', CONNECTIONS, cc.issue);
  const capIn = await measure('introspection', CONNECTIONS, cc.introspect);
  // A steady offered load (autocannon overallRate) rather than as fast as the server answers: at
  // saturation any CPU the archiver takes shows as latency whatever it does; below it, what shows
  // is the run's interference (locks, I/O, the CPU it does not leave).
  const rateCc = Math.round(capCc.rps * LOAD);
  const rateIn = Math.round(capIn.rps * LOAD);
  const steadyCc = { ...cc.issue, overallRate: rateCc };
  const steadyIn = { ...cc.introspect, overallRate: rateIn };
  console.error(`baseline at ${rateCc} and ${rateIn} req/s (nothing else running):`);
  const baseline = [];
  for (let i = 0; i < BASELINE_WINDOWS; i++) {
    baseline.push({ cc: await measure('client_credentials', CONNECTIONS, steadyCc) });
    baseline.push({ introspection: await measure('introspection', CONNECTIONS, steadyIn) });
  }

  console.error('during the retention run:');
  // `retention run` archives a bounded amount per invocation (10 archives of at most 10,000 events):
  // an operator schedules it (a CronJob); here one run follows another until nothing is left, and
  // after every IDLE_EVERY-th run the same two windows are measured with no run going (a baseline
  // taken beside the run, as the machine is then). A window counts as "during" only if a run was
  // still going when it ended; one that outlived its run is left out of both.
  const started = performance.now();
  let archived = 0;
  let runs = 0;
  let sample = null;
  let restedMs = 0;
  let mixed = 0;
  const during = [];
  const between = [];
  let turn = 0;
  const windows = [
    ['cc', 'client_credentials', steadyCc],
    ['introspection', 'introspection', steadyIn],
  ];
  for (;;) {
    let running = true;
    const run = cliInBackground(system, ['retention', 'run', '--json']).done.then((r) => {
      running = false;
      return r;
    });
    for (; running; turn++) {
      const [key, name, options] = windows[turn % 2];
      const row = await measure(name, CONNECTIONS, options);
      if (running) during.push({ [key]: row });
      else mixed++;
    }
    const r = await run;
    runs++;
    if (r.code !== 0) throw new Error(`retention run failed (${r.code}):\n${r.stderr}`);
    const report = JSON.parse(r.stdout);
    sample ??= report.streams?.[0] ?? null;
    restedMs += report.rested_ms ?? 0;
    archived += report.archives.reduce((n, a) => n + a.events, 0);
    if (runs % 10 === 0) console.error(`  ${runs} runs, ${archived} events archived`);
    if (report.archives.length === 0) break;
    if (runs % IDLE_EVERY === 0) {
      console.error('  between runs:');
      between.push({ cc: await measure('client_credentials', CONNECTIONS, steadyCc) });
      between.push({ introspection: await measure('introspection', CONNECTIONS, steadyIn) });
    }
  }
  const betweenSeconds = between.length * (DURATION + WARMUP);
  const runSeconds = (performance.now() - started) / 1000 - betweenSeconds;
  console.error(`  retention: ${runs} runs, ${archived} events archived in ${runSeconds.toFixed(1)} s`);
  const report = { streams_sample: sample ? [sample] : [] };

  await system.query('VACUUM events');
  const after = await tableFigures(system);
  const verifyAfter = await timed(async () =>
    JSON.parse(await system.cli(['audit', 'verify', '--json'], { timeout: 0 })),
  );
  console.error(`  audit verify after: ${JSON.stringify(verifyAfter.value).slice(0, 300)}`);
  const rebuild = await system.cli(['projections', 'rebuild', 'token_state'], { timeout: 0 });
  console.error(`  token_state rebuilt after the run: ${rebuild.trim().split('\n')[0]}`);

  // One archived stream restored for an investigation, then read through the audit API.
  const { rows } = await system.query(
    `SELECT stream_id FROM events WHERE stream_id LIKE 'access-token-%' LIMIT 1`,
  );
  const archivedStream = report.streams_sample?.[0] ?? null;
  let restored = null;
  if (archivedStream) {
    await system.cli(['retention', 'restore', archivedStream, '--json']);
    const jti = archivedStream.slice('access-token-'.length);
    const history = await fetch(`http://127.0.0.1:${adminPort}/admin/tokens/${jti}/history`, {
      headers: { authorization: `Bearer ${system.env.ADMIN_TOKEN}` },
    });
    restored = {
      stream: archivedStream,
      status: history.status,
      events: (await history.json()).events?.length,
    };
    console.error(`  restored ${archivedStream}: audit API ${history.status}`);
  }
  void rows;

  const sizeOf = (suffix) =>
    readdirSync(archiveDir)
      .filter((f) => f.endsWith(suffix))
      .reduce((n, f) => n + statSync(join(archiveDir, f)).size, 0);
  const archiveBytes = sizeOf('.jsonl.gz');
  const manifestBytes = sizeOf('.manifest.json');
  const of = (rowsOf, name) => rowsOf.filter((r) => r[name]).map((r) => r[name]);
  const spread = (rs, k) => {
    const v = rs.map((r) => r[k]).sort((a, b) => a - b);
    const median = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    return `${v[0]} – ${median} – ${v[v.length - 1]}`;
  };
  const failures = (rs) => rs.reduce((n, r) => n + r.errors + r.non2xx, 0);
  const line = (name, f, v) =>
    `| ${name} | ${f.rows} | ${f.liveMB.toFixed(0)} | ${f.freeMB.toFixed(0)} | ${f.heapMB.toFixed(0)} | ${f.totalMB.toFixed(0)} | intact ${v.value.intact} (${v.seconds.toFixed(0)} s) |`;
  console.log(
    '| events table | rows | live rows MB | free (reusable) MB | heap file MB | with indexes MB | audit verify |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---|');
  console.log(line('before', before, verifyBefore));
  console.log(line('after, VACUUM', after, verifyAfter));
  console.log('');
  console.log(
    `| workload | capacity req/s (p99 ms) | steady rate req/s | baseline p99 ms (${BASELINE_WINDOWS} windows before, min – median – max) | between runs p99 ms (windows, min – median – max) | during the run p99 ms (windows, min – median – max) | during the run req/s (min – median – max) | errors, non-2xx (baseline / between / during) |`,
  );
  console.log('|---|---:|---:|---|---|---|---|---|');
  for (const [name, key, cap, rate] of [
    ['client_credentials', 'cc', capCc, rateCc],
    ['introspection', 'introspection', capIn, rateIn],
  ]) {
    const b = of(baseline, key);
    const i = of(between, key);
    const d = of(during, key);
    console.log(
      `| ${name} | ${cap.rps} (${cap.p99}) | ${rate} | ${spread(b, 'p99')} | ${i.length ? spread(i, 'p99') : '–'} (${i.length}) | ${spread(d, 'p99')} (${d.length}) | ${spread(d, 'rps')} | ${failures(b)} / ${failures(i)} / ${failures(d)} |`,
    );
  }
  console.log('');
  console.log(
    `p99 per window, baseline: cc ${of(baseline, 'cc')
      .map((r) => r.p99)
      .join(', ')}; introspection ${of(baseline, 'introspection')
      .map((r) => r.p99)
      .join(', ')}`,
  );
  console.log(
    `p99 per window, between runs: cc ${of(between, 'cc')
      .map((r) => r.p99)
      .join(', ')}; introspection ${of(between, 'introspection')
      .map((r) => r.p99)
      .join(', ')}`,
  );
  console.log(`windows that outlived their run, left out: ${mixed}`);
  console.log(
    `p99 per window, during: cc ${of(during, 'cc')
      .map((r) => r.p99)
      .join(', ')}; introspection ${of(during, 'introspection')
      .map((r) => r.p99)
      .join(', ')}`,
  );
  console.log('');
  console.log(
    `retention: ${runs} runs back to back, ${archived} events archived in ${runSeconds.toFixed(0)} s (${(archived / runSeconds).toFixed(0)} events/s, resting ${(restedMs / 1000).toFixed(0)} s of it); archives ${(archiveBytes / 2 ** 20).toFixed(0)} MB, manifests ${(manifestBytes / 2 ** 20).toFixed(0)} MB`,
  );
  console.log(`token_state rebuilt after the run: ${rebuild.trim().split('\n')[0]}`);
  if (restored)
    console.log(`restored ${restored.stream}: audit API ${restored.status}, ${restored.events} event(s)`);
} finally {
  await system.stop();
  if (!process.env.BENCH_KEEP_ARCHIVES) rmSync(archiveDir, { recursive: true, force: true });
}
