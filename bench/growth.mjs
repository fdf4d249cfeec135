// `npm run bench:growth`: does issuance slow down as history grows? For each store size
// (BENCH_GROWTH, default "10000,1000000,5000000" events already recorded), a fresh system whose
// store holds that many past events (expired access tokens, as years of client-credentials traffic
// leave behind), then client_credentials and introspection at 50 connections, and the time to
// rebuild the token-state projection from position 0 (only for store sizes of at most BENCH_REBUILD_MAX past events,
// default 1,000,000: the figure is per million events, and a rebuild of 5 million takes long).
import { performance } from 'node:perf_hooks';
import { BenchSystem } from './system.mjs';
import { measure } from './load.mjs';
import { clientCredentials } from './workloads.mjs';

const SIZES = (process.env.BENCH_GROWTH ?? '10000,1000000,5000000').split(',').map(Number);
const CONNECTIONS = 50;
const CHUNK = 250000;
const REBUILD_MAX = Number(process.env.BENCH_REBUILD_MAX ?? 1000000);

/**
 * Past history, written straight into the events table (as a restore would): expired access tokens
 * on their own streams. Their hash columns stay NULL (the chain starts after them, as after the
 * chain's migration) and the relay's checkpoint is moved past them, so JetStream is not replayed.
 */
async function fill(system, count) {
  const started = performance.now();
  const expired = Math.floor(Date.now() / 1000) - 86400;
  for (let from = 1; from <= count; from += CHUNK) {
    const to = Math.min(count, from + CHUNK - 1);
    // Token ids as random as most installations' history holds (UUID v4): new tokens must not pay
    // for an index whose keys are spread over its whole range.
    await system.query(
      `WITH filler AS (SELECT g, gen_random_uuid()::text AS jti FROM generate_series($1::bigint, $2::bigint) g)
       INSERT INTO events (event_id, stream_id, stream_version, type, data, metadata, recorded_at)
       SELECT gen_random_uuid(), 'access-token-' || jti, 1, 'AccessTokenIssued',
              jsonb_build_object('jti', jti, 'clientId', 'filler-client-' || (g % 1000),
                'sub', 'filler-client-' || (g % 1000), 'aud', jsonb_build_array('urn:filler'),
                'scope', jsonb_build_array('read'), 'grantType', 'client_credentials',
                'iat', $3::bigint - 600, 'exp', $3::bigint, 'kid', 'filler'),
              jsonb_build_object('actor', 'client:filler-client-' || (g % 1000)),
              now() - interval '2 days'
         FROM filler`,
      [from, to, expired],
    );
  }
  // A store that has held years of history has been vacuumed many times (hint bits set, visibility
  // map built): measuring the first reads of freshly restored pages would measure that, not growth.
  await system.query(`VACUUM ANALYZE events`);
  // ...and is at rest: the restore's and the vacuum's dirty pages are written out before measuring.
  await system.query(`CHECKPOINT`);
  const head = (await system.query(`SELECT max(global_position) AS p FROM events`)).rows[0].p;
  await system.query(
    `INSERT INTO checkpoints (name, position) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position`,
    [`relay:${system.env.EVENTS_STREAM}`, head],
  );
  return (performance.now() - started) / 1000;
}

const rows = [];
for (const size of SIZES) {
  console.error(`store with ${size} events:`);
  const system = await BenchSystem.start();
  try {
    const fillSeconds = await fill(system, size);
    console.error(`  filled in ${fillSeconds.toFixed(1)} s`);
    await system.launchAll();
    // A store restored with years of history comes with its read models built: measuring while
    // they fold millions of events from position 0 would measure that catch-up, not issuance.
    const caughtUpSeconds = await system.caughtUp();
    console.error(`  projections caught up with the store in ${caughtUpSeconds.toFixed(1)} s`);
    const cc = await clientCredentials(system, 'bench-cc');
    const ccRow = await measure('client_credentials', CONNECTIONS, cc.issue);
    const inRow = await measure('introspection', CONNECTIONS, cc.introspect);
    const events = Number((await system.query(`SELECT count(*) AS n FROM events`)).rows[0].n);
    let rebuildSeconds = null;
    if (size <= REBUILD_MAX) {
      const started = performance.now();
      const report = await system.cli(['projections', 'rebuild', 'token_state']);
      rebuildSeconds = (performance.now() - started) / 1000;
      console.error(`  rebuild: ${rebuildSeconds.toFixed(1)} s: ${report.trim().split('\n')[0]}`);
    }
    rows.push({ size, events, cc: ccRow, introspection: inRow, rebuildSeconds, caughtUpSeconds });
  } finally {
    await system.stop();
  }
}

const baseline = rows[0];
console.log(
  '| events in store | cc req/s | cc p99 ms | vs smallest | introspection req/s | introspection p99 ms | vs smallest | rebuild s | rebuild s per million | first catch-up s |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.events} | ${r.cc.rps} | ${r.cc.p99} | ${((100 * r.cc.rps) / baseline.cc.rps).toFixed(0)}% | ${r.introspection.rps} | ${r.introspection.p99} | ${((100 * r.introspection.rps) / baseline.introspection.rps).toFixed(0)}% | ${r.rebuildSeconds?.toFixed(1) ?? '–'} | ${r.rebuildSeconds === null ? '–' : ((r.rebuildSeconds * 1e6) / r.events).toFixed(1)} | ${r.caughtUpSeconds.toFixed(0)} |`,
  );
}
