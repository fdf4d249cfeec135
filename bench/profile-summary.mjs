// Summarises V8 .cpuprofile files (BENCH_PROFILE=1 writes them): self time by function and by package.
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

const dir = process.argv[2] ?? resolve(import.meta.dirname, 'profiles');
const top = Number(process.argv[3] ?? 15);
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(resolve(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    self.set(n.id, (self.get(n.id) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const pkgs = new Map();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anon)'} ${url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
    const pkg = url.includes('node_modules/')
      ? url
          .split('node_modules/')
          .pop()
          .split('/')
          .slice(0, url.split('node_modules/').pop().startsWith('@') ? 2 : 1)
          .join('/')
      : url.includes('/dist/')
        ? 'ours'
        : url.startsWith('node:')
          ? 'node'
          : functionName.startsWith('(')
            ? functionName
            : 'other';
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + t);
  }
  const pct = (t) => ((100 * t) / total).toFixed(1).padStart(5) + '%';
  console.log(`\n== ${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  for (const [k, t] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${pct(t)}  ${k}`);
  console.log('  --');
  for (const [k, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t)}  ${k}`);
}
