// `npm run bench`: the hot paths of this server measured side by side with node-oidc-provider 9,
// in one run, over loopback with autocannon. See docs/performance.md for what it measures and the
// latest figures. Environment: BENCH_DURATION (seconds per measurement, default 10), BENCH_WARMUP
// (seconds, default 3), BENCH_CONNECTIONS (default "10,50"), BENCH_ONLY (comma list of workloads).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { BenchSystem, freePort, ROOT, rssOf } from './system.mjs';
import { clientCredentials, codeRedemptions, jwks, refreshRotations, webClient } from './workloads.mjs';

import { basic, cannon, CONNECTIONS, DURATION, form, measure, WARMUP } from './load.mjs';

const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (name) => !ONLY || ONLY.has(name);

// ---------------------------------------------------------------------------------- our system

async function grantSupport(system) {
  const meta = await (await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`)).json();
  return new Set(meta.grant_types_supported ?? []);
}

async function runOurs(results, checks) {
  const system = await BenchSystem.start();
  try {
    await system.launchAll();
    const cc = await clientCredentials(system, 'bench-cc');
    const grants = await grantSupport(system);

    for (const connections of CONNECTIONS) {
      if (want('jwks'))
        results.push({ system: 'ours', ...(await measure('jwks', connections, jwks(system))) });
      if (want('client_credentials')) {
        results.push({ system: 'ours', ...(await measure('client_credentials', connections, cc.issue)) });
      }
      if (want('introspection')) {
        results.push({ system: 'ours', ...(await measure('introspection', connections, cc.introspect)) });
      }
    }
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
          results.push({
            system: 'ours',
            ...(await measure('authorization_code', connections, redemptions)),
          });
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
  } catch (err) {
    console.error(system.log.slice(-30).join(''));
    throw err;
  } finally {
    await system.stop();
  }
}

// ---------------------------------------------------------------------------------- the peer

async function runPeer(results, checks) {
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const child = spawn(process.execPath, [resolve(ROOT, 'bench/peer-oidc-provider.mjs')], {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), PEER_CLIENT_SECRET: secret },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((done, fail) => {
    child.stdout.once('data', () => done());
    child.once('exit', (code) => fail(new Error(`node-oidc-provider exited ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const auth = basic('bench', secret);
  try {
    const opaque = await (
      await fetch(`${base}/token`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: 'grant_type=client_credentials&scope=read&resource=urn:bench:opaque',
      })
    ).json();
    for (const connections of CONNECTIONS) {
      if (want('jwks'))
        results.push({ system: 'peer', ...(await measure('jwks', connections, { url: `${base}/jwks` })) });
      if (want('client_credentials')) {
        results.push({
          system: 'peer',
          ...(await measure('client_credentials', connections, {
            url: `${base}/token`,
            method: 'POST',
            headers: { ...form, authorization: auth },
            body: 'grant_type=client_credentials&scope=read',
          })),
        });
      }
      if (want('introspection')) {
        results.push({
          system: 'peer',
          ...(await measure('introspection', connections, {
            url: `${base}/token/introspection`,
            method: 'POST',
            headers: { ...form, authorization: auth },
            body: `token=${opaque.access_token}`,
          })),
        });
      }
    }
    checks.push({ rss: 'node-oidc-provider', process: await rssOf(child.pid) });
  } finally {
    child.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------- report

function table(results) {
  const peer = new Map(
    results.filter((r) => r.system === 'peer').map((r) => [`${r.workload}@${r.connections}`, r]),
  );
  const lines = [
    '| workload | conns | ours req/s | p50 ms | p99 ms | errors | non-2xx | node-oidc-provider req/s | p50 ms | p99 ms | ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results.filter((x) => x.system === 'ours')) {
    const p = peer.get(`${r.workload}@${r.connections}`);
    lines.push(
      `| ${r.workload} | ${r.connections} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${p ? p.rps : '–'} | ${p ? p.p50 : '–'} | ${p ? p.p99 : '–'} | ${p ? (r.rps / p.rps).toFixed(2) + '×' : '–'} |`,
    );
  }
  return lines.join('\n');
}

const results = [];
const checks = [];
console.error(
  `bench: ${DURATION} s per measurement after ${WARMUP} s warm-up, connections ${CONNECTIONS.join(', ')}`,
);
console.error('our system:');
await runOurs(results, checks);
console.error('node-oidc-provider 9 (in-memory adapter):');
await runPeer(results, checks);
console.log(table(results));
console.log('');
for (const c of checks) console.log(JSON.stringify(c));
const failed = checks.filter((c) => c.pass === false);
if (failed.length > 0) {
  console.error(`bench: ${failed.length} check(s) failed`);
  process.exitCode = 1;
}
