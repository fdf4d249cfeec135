// `node bench/probe.mjs`: the iteration probe. Starts the five processes from dist/ (as `npm run
// bench` does), runs one workload with autocannon, and prints req/s, latency and the CPU time each
// process spent per answered request (from /proc, user and system). CPU per request is the figure to
// compare before and after a change on a shared machine: it moves far less with the machine's load
// than req/s. Postgres (every backend) and nats-server are counted too. Environment: WL (cc | intro
// | jwks | refresh | code, default cc), CONN (default 50), DUR (seconds, default 8; after a 3 s
// warm-up), BENCH_NODE_FLAGS (the services' node flags instead of SERVICE_NODE_FLAGS; "none"), PEER=1
// (cc, intro, jwks: then the same workload against node-oidc-provider 9 too, and its CPU per request).
import { BenchSystem } from './system.mjs';
import { cpuMs, cpuOfCommand, cpuSpent } from './cpu.mjs';
import { cannon, loadFigures } from './load.mjs';
import { startPeer } from './peer.mjs';
import { clientCredentials, codeRedemptions, jwks, refreshRotations, webClient } from './workloads.mjs';

const WL = process.env.WL ?? 'cc';
const CONN = Number(process.env.CONN ?? 50);
const DUR = Number(process.env.DUR ?? 8);

const system = await BenchSystem.start();
try {
  await system.launchAll();
  const web = ['refresh', 'code'].includes(WL) ? await webClient(system, 'probe-web') : undefined;
  const workloads = {
    cc: async () => (await clientCredentials(system, 'probe')).issue,
    intro: async () => (await clientCredentials(system, 'probe')).introspect,
    jwks: async () => jwks(system),
    refresh: () => refreshRotations(system, web, 400),
    code: () => codeRedemptions(system, web, 3000 * (DUR + 3)),
  };
  const options = await workloads[WL]?.();
  if (!options) throw new Error(`WL must be cc, intro, jwks, refresh or code, not ${WL}`);
  await cannon({ ...options, connections: CONN, duration: 3 });
  const pids = Object.fromEntries([...system.children].map(([app, child]) => [app, child.pid]));
  const before = Object.fromEntries(Object.entries(pids).map(([app, pid]) => [app, cpuMs(pid)]));
  const servers = { postgres: cpuOfCommand('postgres'), nats: cpuOfCommand('nats-server') };
  const r = await cannon({ ...options, connections: CONN, duration: DUR });
  const serversAfter = { postgres: cpuOfCommand('postgres'), nats: cpuOfCommand('nats-server') };
  const answered = r['2xx'];
  const spent = Object.entries(pids).map(([app, pid]) => {
    const now = cpuMs(pid);
    return [app, { user: now.user - before[app].user, sys: now.sys - before[app].sys }];
  });
  for (const name of ['postgres', 'nats']) spent.push([name, cpuSpent(servers[name], serversAfter[name])]);
  const perRequest = {};
  let total = 0;
  for (const [name, { user, sys }] of spent) {
    total += user + sys;
    perRequest[name] =
      `${Math.round(((user + sys) / answered) * 1000)} µs (sys ${Math.round((sys / answered) * 1000)})`;
  }
  console.log(
    JSON.stringify({
      workload: WL,
      connections: CONN,
      ...loadFigures(r),
      cpuPerRequest: perRequest,
      totalCpuPerRequest: `${Math.round((total / answered) * 1000)} µs`,
      rssMB: await system.rss(),
    }),
  );
} finally {
  await system.stop();
}

const PEER_WORKLOADS = { cc: 'client_credentials', intro: 'introspection', jwks: 'jwks' };
if (process.env.PEER === '1' && PEER_WORKLOADS[WL]) {
  const peer = await startPeer();
  try {
    const options = peer.workloads[PEER_WORKLOADS[WL]];
    await cannon({ ...options, connections: CONN, duration: 3 });
    const before = cpuMs(peer.child.pid);
    const r = await cannon({ ...options, connections: CONN, duration: DUR });
    const after = cpuMs(peer.child.pid);
    const spent = after.user - before.user + (after.sys - before.sys);
    console.log(
      JSON.stringify({
        workload: WL,
        system: 'node-oidc-provider',
        connections: CONN,
        ...loadFigures(r),
        cpuPerRequest: `${Math.round((spent / r['2xx']) * 1000)} µs (sys ${Math.round(((after.sys - before.sys) / r['2xx']) * 1000)})`,
      }),
    );
  } finally {
    peer.child.kill('SIGTERM');
  }
}
process.exit(0);
