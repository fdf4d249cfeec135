// `node bench/probe.mjs`: the iteration probe. Starts the five processes from dist/ (as `npm run
// bench` does), runs one workload with autocannon, and prints req/s, latency and the CPU time each
// process spent per answered request (from /proc, user and system). CPU per request is the figure to
// compare before and after a change on a shared machine: it moves far less with the machine's load
// than req/s. Environment: WL (cc | intro | jwks, default cc), CONN (default 50), DUR (seconds,
// default 8; after a 3 s warm-up).
import { readFileSync } from 'node:fs';
import { BenchSystem } from './system.mjs';
import { basic, cannon, form } from './load.mjs';

const WL = process.env.WL ?? 'cc';
const CONN = Number(process.env.CONN ?? 50);
const DUR = Number(process.env.DUR ?? 8);
const TICK_MS = 10; // USER_HZ = 100 on Linux

const stat = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
const cpuMs = (pid) => {
  const f = stat(pid);
  return { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS };
};

const system = await BenchSystem.start();
try {
  await system.launchAll();
  const base = system.baseUrl;
  const cc = await system.createClient([
    '--name',
    'probe',
    '--grant',
    'client_credentials',
    '--scope',
    'read',
  ]);
  const authorization = basic(cc.client_id, cc.client_secret);
  const body = 'grant_type=client_credentials&scope=read';
  const token = await (
    await fetch(`${base}/token`, { method: 'POST', headers: { ...form, authorization }, body })
  ).json();
  const options = {
    cc: { url: `${base}/token`, method: 'POST', headers: { ...form, authorization }, body },
    intro: {
      url: `${base}/introspect`,
      method: 'POST',
      headers: { ...form, authorization },
      body: `token=${token.access_token}`,
    },
    jwks: { url: `${base}/jwks` },
  }[WL];
  if (!options) throw new Error(`WL must be cc, intro or jwks, not ${WL}`);
  await cannon({ ...options, connections: CONN, duration: 3 });
  const pids = Object.fromEntries([...system.children].map(([app, child]) => [app, child.pid]));
  const before = Object.fromEntries(Object.entries(pids).map(([app, pid]) => [app, cpuMs(pid)]));
  const r = await cannon({ ...options, connections: CONN, duration: DUR });
  const answered = r['2xx'];
  const perRequest = {};
  let total = 0;
  for (const [app, pid] of Object.entries(pids)) {
    const now = cpuMs(pid);
    const user = now.user - before[app].user;
    const sys = now.sys - before[app].sys;
    total += user + sys;
    perRequest[app] =
      `${Math.round(((user + sys) / answered) * 1000)} µs (sys ${Math.round((sys / answered) * 1000)})`;
  }
  console.log(
    JSON.stringify({
      workload: WL,
      connections: CONN,
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      cpuPerRequest: perRequest,
      totalCpuPerRequest: `${Math.round((total / answered) * 1000)} µs`,
      rssMB: await system.rss(),
    }),
  );
} finally {
  await system.stop();
}
process.exit(0);
