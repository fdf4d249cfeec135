// `node bench/probe.mjs`: the iteration probe. Starts the five processes from dist/ (as `npm run
// bench` does), runs one workload with autocannon, and prints req/s, latency and the CPU time each
// process spent per answered request (from /proc, user and system). CPU per request is the figure to
// compare before and after a change on a shared machine: it moves far less with the machine's load
// than req/s. Postgres (every backend) and nats-server are counted too. Environment: WL (cc | intro
// | jwks | refresh | code, default cc), CONN (default 50), DUR (seconds, default 8; after a 3 s
// warm-up), BENCH_NODE_FLAGS (the services' node flags instead of SERVICE_NODE_FLAGS; "none").
import { readdirSync, readFileSync } from 'node:fs';
import { BenchSystem, REDIRECT_URI } from './system.mjs';
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
/** CPU of every live process with this command name (Postgres backends come and go; a pool keeps them). */
const cpuOfCommand = (comm) => {
  const byPid = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) byPid.set(pid, cpuMs(pid));
    } catch {
      // exited meanwhile
    }
  }
  return byPid;
};
const deltaOf = (before, after) => {
  let user = 0;
  let sys = 0;
  for (const [pid, now] of after) {
    const then = before.get(pid) ?? { user: 0, sys: 0 };
    user += now.user - then.user;
    sys += now.sys - then.sys;
  }
  return { user, sys };
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
  const web = ['refresh', 'code'].includes(WL)
    ? await system.createClient([
        '--name',
        'probe-web',
        '--grant',
        'authorization_code',
        '--grant',
        'refresh_token',
        '--scope',
        'read',
        '--redirect-uri',
        REDIRECT_URI,
      ])
    : undefined;
  const webAuth = web && basic(web.client_id, web.client_secret);
  const redeem = (code, verifier) =>
    `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${verifier}`;
  let codeRequests;
  let refreshRequests;
  if (WL === 'code') {
    const { codes, verifier } = await system.seedCodes(web.client_id, 3000 * (DUR + 3));
    let next = 0;
    codeRequests = [
      {
        setupRequest: (req) => {
          const code = codes[next++];
          if (code === undefined) throw new Error('ran out of prepared codes');
          return { ...req, body: redeem(code, verifier) };
        },
      },
    ];
  }
  if (WL === 'refresh') {
    const { codes, verifier } = await system.seedCodes(web.client_id, 400);
    const pool = [];
    for (const code of codes) {
      const res = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { ...form, authorization: webAuth },
        body: redeem(code, verifier),
      });
      pool.push((await res.json()).refresh_token);
    }
    refreshRequests = [
      {
        setupRequest: (req) => {
          const token = pool.shift();
          if (token === undefined) throw new Error('no idle refresh-token family');
          return { ...req, body: `grant_type=refresh_token&refresh_token=${token}` };
        },
        onResponse: (status, body) => {
          if (status === 200) pool.push(JSON.parse(body).refresh_token);
        },
      },
    ];
  }
  const options = {
    refresh: {
      url: `${base}/token`,
      method: 'POST',
      headers: { ...form, authorization: webAuth },
      requests: refreshRequests,
    },
    code: {
      url: `${base}/token`,
      method: 'POST',
      headers: { ...form, authorization: webAuth },
      requests: codeRequests,
    },
    cc: { url: `${base}/token`, method: 'POST', headers: { ...form, authorization }, body },
    intro: {
      url: `${base}/introspect`,
      method: 'POST',
      headers: { ...form, authorization },
      body: `token=${token.access_token}`,
    },
    jwks: { url: `${base}/jwks` },
  }[WL];
  if (!options) throw new Error(`WL must be cc, intro, jwks, refresh or code, not ${WL}`);
  await cannon({ ...options, connections: CONN, duration: 3 });
  const pids = Object.fromEntries([...system.children].map(([app, child]) => [app, child.pid]));
  const before = Object.fromEntries(Object.entries(pids).map(([app, pid]) => [app, cpuMs(pid)]));
  const servers = { postgres: cpuOfCommand('postgres'), nats: cpuOfCommand('nats-server') };
  const r = await cannon({ ...options, connections: CONN, duration: DUR });
  const serversAfter = { postgres: cpuOfCommand('postgres'), nats: cpuOfCommand('nats-server') };
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
  for (const name of ['postgres', 'nats']) {
    const { user, sys } = deltaOf(servers[name], serversAfter[name]);
    total += user + sys;
    perRequest[name] =
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
