// `npm run bench:grant-cost`: what one refresh, one introspection of a refresh token and one bogus
// refresh (`<grantId>.<random>`, the attacker's request) cost when the family has been rotated 10,
// 1,000 and 100,000 times. The figures must be flat: a grant is read from its snapshot and at most
// 100 events after it (docs/performance.md, "Long refresh families").
//
// Each family's history is decided by the grant's decider and appended to the store in batches (what a
// client refreshing that often would leave, in seconds); the relay and the projections then catch up,
// and each figure is the median of BENCH_GRANT_SAMPLES (default 200) sequential requests. The first
// bogus refresh after seeding, which meets the history with no snapshot, is printed on its own.
// Environment: BENCH_GRANT_DEPTHS (default "10,1000,100000"), BENCH_GRANT_SAMPLES.
import { randomUUID } from 'node:crypto';
import { BenchSystem } from './system.mjs';
import { webClient } from './workloads.mjs';

const DEPTHS = (process.env.BENCH_GRANT_DEPTHS ?? '10,1000,100000').split(',').map(Number);
const SAMPLES = Math.max(5, Number(process.env.BENCH_GRANT_SAMPLES ?? 200));

const grant = await import('../dist/libs/domain-grant/src/index.js');
const { createEventStoreDataSource, PgEventStore } = await import('../dist/libs/event-store/src/index.js');
const { loadConfig } = await import('../dist/libs/config/src/index.js');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => x.toFixed(2);

async function timed(fn) {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { result, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/** `count` rotations of the family of `current`, appended behind the services' back. */
async function seedRotations(system, clientId, current, count) {
  const keys = loadConfig(system.env).secretHashKeys;
  const grantId = grant.grantIdOf(current);
  const ds = createEventStoreDataSource(system.env.DATABASE_URL, { poolSize: 1 });
  await ds.initialize();
  try {
    const store = new PgEventStore(ds);
    const streamId = grant.grantStreamId(grantId);
    const history = await store.readStream(streamId);
    let state = history.reduce(grant.evolveGrant, grant.initialGrantState());
    let version = history.at(-1).streamVersion;
    const hash = grant.grantTokenHasher(keys, state);
    let pending = [];
    for (let i = 0; i < count; i++) {
      const next = grant.mintGrantToken(grantId);
      const { events, refusal: error } = grant.decideGrant(
        {
          type: 'RotateRefreshToken',
          presentedHash: hash(current),
          clientId,
          scope: undefined,
          clientScope: state.grant.scope,
          newHash: hash(next),
          idleTtlSeconds: 86_400,
          accessTokenJti: randomUUID(),
          reuseGraceSeconds: 0,
          presentedWasIssued: true,
          maxRotations: Number.MAX_SAFE_INTEGER,
          now: new Date(),
        },
        state,
      );
      if (error) throw error;
      for (const e of events) {
        state = grant.evolveGrant(state, { ...e, streamVersion: version + pending.length + 1 });
        pending.push({ ...e, metadata: { actor: `client:${clientId}` } });
      }
      current = next;
      if (pending.length >= 1000 || i === count - 1) {
        version = (await store.appendToStream(streamId, version, pending)).nextExpectedVersion;
        pending = [];
      }
    }
    return current;
  } finally {
    await ds.destroy();
  }
}

async function relayCaughtUp(system) {
  for (;;) {
    const { rows } = await system.query(
      `SELECT count(*) AS behind FROM checkpoints
       WHERE name LIKE 'relay:%' AND position < (SELECT max(global_position) FROM events)`,
    );
    if (Number(rows[0].behind) === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const system = await BenchSystem.start({ REFRESH_TOKEN_MAX_ROTATIONS: '1000000' });
const rows = [];
try {
  await system.launchAll();
  const web = await webClient(system, 'bench-grant-cost');
  const post = (path, body) =>
    fetch(`${system.baseUrl}${path}`, { method: 'POST', headers: web.headers, body }).then(async (res) => ({
      status: res.status,
      body: await res.json(),
    }));
  for (const depth of DEPTHS) {
    const { codes, verifier } = await system.seedCodes(web.clientId, 1);
    const redeemed = await post(
      '/token',
      `grant_type=authorization_code&code=${codes[0]}&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}&code_verifier=${verifier}`,
    );
    let current = redeemed.body.refresh_token;
    const grantId = grant.grantIdOf(current);
    const seedStart = Date.now();
    current = await seedRotations(system, web.clientId, current, depth);
    const seedSeconds = (Date.now() - seedStart) / 1000;
    await relayCaughtUp(system);
    const bogus = () =>
      post('/token', `grant_type=refresh_token&refresh_token=${grant.mintGrantToken(grantId)}`);
    const cold = await timed(bogus);
    if (cold.result.status !== 400) throw new Error(`bogus refresh: ${cold.result.status}`);
    const refresh = [];
    const introspect = [];
    const bogusTimes = [];
    for (let i = 0; i < SAMPLES; i++) {
      const r = await timed(() => post('/token', `grant_type=refresh_token&refresh_token=${current}`));
      if (r.result.status !== 200) throw new Error(`refresh: ${JSON.stringify(r.result.body)}`);
      current = r.result.body.refresh_token;
      refresh.push(r.ms);
      const t = await timed(() => post('/introspect', `token=${current}&token_type_hint=refresh_token`));
      if (t.result.body.active !== true) throw new Error(`introspection: ${JSON.stringify(t.result.body)}`);
      introspect.push(t.ms);
      const b = await timed(bogus);
      if (b.result.status !== 400) throw new Error(`bogus refresh: ${b.result.status}`);
      bogusTimes.push(b.ms);
    }
    rows.push({
      depth,
      seedSeconds,
      cold: cold.ms,
      refresh: median(refresh),
      introspect: median(introspect),
      bogus: median(bogusTimes),
    });
    console.error(`depth ${depth} done`);
  }
} finally {
  await system.stop();
}

console.log(`\nGrant cost by family length (median of ${SAMPLES} sequential requests, ms):\n`);
console.log(
  '| rotations | refresh | introspection | bogus refresh | first bogus refresh (no snapshot) | seeding (s) |',
);
console.log('|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.depth.toLocaleString('en')} | ${ms(r.refresh)} | ${ms(r.introspect)} | ${ms(r.bogus)} | ${ms(r.cold)} | ${r.seedSeconds.toFixed(1)} |`,
  );
}
