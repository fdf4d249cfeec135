// CPU time of processes from /proc (user and system, in ms), for the benchmarks that report CPU per
// request or per event: it moves far less with a shared machine's load than throughput does.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU time one process has used so far. */
export function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS };
}

/** CPU of every live process with this command name, by pid (Postgres backends come and go). */
export function cpuOfCommand(comm) {
  const byPid = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) byPid.set(pid, cpuMs(pid));
    } catch {
      // exited meanwhile
    }
  }
  return byPid;
}

/** CPU spent between two cpuOfCommand snapshots (a process that started meanwhile counts whole). */
export function cpuSpent(before, after) {
  let user = 0;
  let sys = 0;
  for (const [pid, now] of after) {
    const then = before.get(pid) ?? { user: 0, sys: 0 };
    user += now.user - then.user;
    sys += now.sys - then.sys;
  }
  return { user, sys };
}
