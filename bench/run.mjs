// `npm run bench`: the hot paths of this server measured side by side with node-oidc-provider 9,
// in one run, over loopback with autocannon. See docs/performance.md for what it measures and the
// latest figures. Environment: BENCH_DURATION (seconds per measurement, default 10), BENCH_WARMUP
// (seconds, default 3), BENCH_CONNECTIONS (default "10,50"), BENCH_ONLY (comma list of workloads),
// BENCH_ROUNDS (alternating rounds of each side-by-side measurement, default 3).
import { startPeer } from './peer.mjs';
import { BenchSystem, rssOf } from './system.mjs';
import { clientCredentials, codeRedemptions, jwks, refreshRotations, webClient } from './workloads.mjs';

import { cannon, CONNECTIONS, DURATION, measure, WARMUP } from './load.mjs';

/** Alternating rounds of each side-by-side measurement (BENCH_ROUNDS, default 3); the table shows medians. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (name) => !ONLY || ONLY.has(name);

// ---------------------------------------------------------------------------------- our system

async function grantSupport(system) {
  const meta = await (await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`)).json();
  return new Set(meta.grant_types_supported ?? []);
}

/** Our five processes, started, with the side-by-side workloads prepared. */
async function startOurs() {
  const system = await BenchSystem.start();
  try {
    await system.launchAll();
    const cc = await clientCredentials(system, 'bench-cc');
    return {
      system,
      workloads: { jwks: jwks(system), client_credentials: cc.issue, introspection: cc.introspect },
      cc,
    };
  } catch (err) {
    console.error(system.log.slice(-30).join(''));
    await system.stop();
    throw err;
  }
}

/** What only our system runs: the durability check, code redemption, refresh rotation, RSS. */
async function runOursOnly(ours, results, checks) {
  const { system, cc } = ours;
  if (want('client_credentials')) {
    // Timed runs abandon the requests in flight when time is up; this run waits for every answer,
    // so each 2xx can be matched with its durable issuance event.
    const count = () =>
      system
        .query(
          `SELECT count(*) AS n FROM events WHERE type = 'AccessTokenIssued' AND data->>'grantType' = 'client_credentials'`,
        )
        .then((r) => Number(r.rows[0].n));
    // Let the abandoned requests of the timed runs finish first.
    let before = await count();
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await count();
      if (now === before) break;
      before = now;
    }
    const r = await cannon({ ...cc.issue, connections: 50, amount: 5000 });
    const after = await count();
    checks.push({
      check: 'client_credentials: AccessTokenIssued events = 2xx token responses (5000 requests)',
      expected: r['2xx'],
      actual: after - before,
      non2xx: r.non2xx,
      errors: r.errors,
      pass: after - before === r['2xx'] && r.non2xx === 0 && r.errors === 0,
    });
  }

  const grants = await grantSupport(system);
  const codeFlow = grants.has('authorization_code') && grants.has('refresh_token');
  if (!codeFlow && (want('refresh_token') || want('authorization_code'))) {
    console.error('  (authorization_code / refresh_token not supported by this build: skipped)');
  }
  if (codeFlow && (want('refresh_token') || want('authorization_code'))) {
    const web = await webClient(system, 'bench-web');
    const perRun = Math.ceil(3000 * (DURATION + WARMUP));
    if (want('authorization_code')) {
      for (const connections of CONNECTIONS) {
        const redemptions = await codeRedemptions(system, web, perRun);
        results.push({ system: 'ours', ...(await measure('authorization_code', connections, redemptions)) });
      }
    }
    if (want('refresh_token')) {
      const rotations = await refreshRotations(system, web, 400);
      for (const connections of CONNECTIONS) {
        results.push({ system: 'ours', ...(await measure('refresh_token', connections, rotations)) });
      }
      // A family forks when two rotations replace the same token (outside a grace window).
      const forks = await system.query(
        `SELECT stream_id, data->>'previousHash' AS h, count(*) AS n FROM events
          WHERE type = 'RefreshTokenRotated' AND NOT coalesce((data->>'withinGrace')::boolean, false)
          GROUP BY 1, 2 HAVING count(*) > 1`,
      );
      checks.push({
        check: 'refresh_token: families with two live tokens',
        expected: 0,
        actual: forks.rowCount,
        pass: forks.rowCount === 0,
      });
    }
  }
  checks.push({ rss: 'ours', ...(await system.rss()) });
}

// ---------------------------------------------------------------------------------- side by side

/**
 * Each side-by-side workload, at each connection count, ROUNDS times, alternating ours and the peer
 * (ours, peer, ours, peer, …): a change in the machine's load between rounds hits both.
 */
async function sideBySide(ours, peer, results) {
  for (const connections of CONNECTIONS) {
    for (const workload of ['jwks', 'client_credentials', 'introspection']) {
      if (!want(workload)) continue;
      for (let round = 1; round <= ROUNDS; round++) {
        console.error(`  round ${round}/${ROUNDS}`);
        results.push({
          system: 'ours',
          round,
          ...(await measure(workload, connections, ours.workloads[workload])),
        });
        results.push({
          system: 'peer',
          round,
          ...(await measure(workload, connections, peer.workloads[workload])),
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------- report

/** The round with the median req/s (the lower middle one for an even count). */
function median(rows) {
  const sorted = [...rows].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * One row per workload and connection count: ours and the peer's median round, the ratio of the
 * medians, and each round's own ratio (ours / the peer's measurement right after it).
 */
function table(results) {
  const lines = [
    '| workload | conns | ours req/s | p50 ms | p99 ms | errors | non-2xx | node-oidc-provider req/s | p50 ms | p99 ms | ratio | ratio per round |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const groups = new Map();
  for (const r of results) {
    const key = `${r.workload}@${r.connections}`;
    if (!groups.has(key)) groups.set(key, { ours: [], peer: [] });
    groups.get(key)[r.system].push(r);
  }
  for (const { ours, peer } of groups.values()) {
    const o = median(ours);
    const p = peer.length > 0 ? median(peer) : null;
    const errors = ours.reduce((n, r) => n + r.errors, 0);
    const non2xx = ours.reduce((n, r) => n + r.non2xx, 0);
    const perRound = p
      ? ours.map((r) => (r.rps / peer.find((q) => q.round === r.round).rps).toFixed(2)).join(', ')
      : '–';
    lines.push(
      `| ${o.workload} | ${o.connections} | ${o.rps} | ${o.p50} | ${o.p99} | ${errors} | ${non2xx} | ${p ? p.rps : '–'} | ${p ? p.p50 : '–'} | ${p ? p.p99 : '–'} | ${p ? (o.rps / p.rps).toFixed(2) + '×' : '–'} | ${perRound} |`,
    );
  }
  return lines.join('\n');
}

const results = [];
const checks = [];
console.error(
  `bench: ${DURATION} s per measurement after ${WARMUP} s warm-up, connections ${CONNECTIONS.join(', ')}, ` +
    `${ROUNDS} alternating rounds side by side`,
);
const peer = await startPeer();
try {
  const ours = await startOurs();
  try {
    console.error('side by side, ours then node-oidc-provider 9 (in-memory adapter) in each round:');
    await sideBySide(ours, peer, results);
    console.error('our system only:');
    await runOursOnly(ours, results, checks);
  } catch (err) {
    console.error(ours.system.log.slice(-30).join(''));
    throw err;
  } finally {
    await ours.system.stop();
  }
  checks.push({ rss: 'node-oidc-provider', process: await rssOf(peer.child.pid) });
} finally {
  peer.child.kill('SIGTERM');
}
console.log(table(results));
console.log('');
for (const c of checks) console.log(JSON.stringify(c));
const failed = checks.filter((c) => c.pass === false);
if (failed.length > 0) {
  console.error(`bench: ${failed.length} check(s) failed`);
  process.exitCode = 1;
}
