#!/usr/bin/env node
// `npm test`: every suite, on a machine that has what they need.
//
//  1. .ci/ensure-services.sh, the code CI runs for the same purpose: Postgres and NATS with JetStream
//     on the servers of DATABASE_URL and NATS_URL, the nats-server and Postgres binaries, a headless
//     Chromium. What is missing is installed or started when this user may (root or passwordless
//     sudo, a service on this machine); otherwise it stops here, within seconds, with one line that
//     names what is missing and the command that provides it. ENSURE_SERVICES=check never changes
//     anything.
//  2. `npm run build` (the e2e, attacks and fault suites run the built processes).
//  3. each suite (`npm run test:<suite>` of package.json), every one even when an earlier one failed,
//     then one summary line per step; the exit status is 1 when any failed.
//
// `node scripts/test.mjs unit e2e` (or `npm test -- unit e2e`) runs only the suites named.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUITES = ['unit', 'int', 'e2e', 'attacks', 'faults'];
const TAG = '[test]';

const log = (line) => process.stdout.write(`${TAG} ${line}\n`);

const wanted = process.argv.slice(2);
const unknown = wanted.filter((s) => !SUITES.includes(s));
if (unknown.length > 0) {
  process.stderr.write(
    `${TAG} unknown suite(s) ${unknown.join(', ')}; the suites are ${SUITES.join(', ')}\n`,
  );
  process.exit(2);
}
const suites = wanted.length > 0 ? SUITES.filter((s) => wanted.includes(s)) : SUITES;

/** host and port of a URL, brackets off an IPv6 literal (what pg_isready and /dev/tcp take). */
function hostPort(raw, defaultScheme, defaultPort) {
  const url = new URL(raw.includes('://') ? raw : `${defaultScheme}://${raw}`);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || String(defaultPort),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

let current = null;
let interrupted = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = signal;
    current?.kill(signal);
  });
}

/**
 * Runs a command with this process's output, scanning it for jest's "Tests:" lines; resolves to the
 * exit status (1 when killed by a signal) and those lines.
 */
function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['inherit', 'pipe', 'pipe'] });
    current = child;
    const tests = [];
    const scan = (out) => {
      let partial = '';
      return (chunk) => {
        out.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop();
        for (const line of lines) {
          // eslint-disable-next-line no-control-regex -- jest's colours
          const plain = line.replace(/\u001b\[[0-9;]*m/g, '').trim();
          if (plain.startsWith('Tests:')) tests.push(plain.replace(/^Tests:\s+/, ''));
        }
      };
    };
    child.stdout.on('data', scan(process.stdout));
    child.stderr.on('data', scan(process.stderr));
    child.on('error', (err) => {
      process.stderr.write(`${TAG} cannot run ${command}: ${err.message}\n`);
      resolve({ code: 127, tests });
    });
    child.on('close', (code) => {
      current = null;
      resolve({ code: code ?? 1, tests });
    });
  });
}

// ------------------------------------------------------------------------------- 1. prerequisites
const db = hostPort(
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  'postgres',
  5432,
);
const nats = hostPort((process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',')[0].trim(), 'nats', 4222);
const envDir = mkdtempSync(join(tmpdir(), 'npm-test-'));
const envFile = join(envDir, 'env');
const started = Date.now();
const check = await run('bash', [join(ROOT, '.ci/ensure-services.sh')], {
  ...process.env,
  CI_LOG_TAG: 'test',
  CI_PG_HOST: db.host,
  CI_PG_PORT: db.port,
  CI_PG_USER: db.user || 'postgres',
  ...(db.password ? { PGPASSWORD: db.password } : {}),
  CI_NATS_HOST: nats.host,
  CI_NATS_PORT: nats.port,
  CI_ENSURE_ENV_FILE: envFile,
});
if (interrupted) process.exit(interrupted === 'SIGINT' ? 130 : 143);
if (check.code !== 0) {
  rmSync(envDir, { recursive: true, force: true });
  process.exit(check.code);
}
const found = Object.fromEntries(
  readFileSync(envFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
rmSync(envDir, { recursive: true, force: true });
log(`prerequisites ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// --------------------------------------------------------------------------- 2 and 3. build, suites
const env = {
  ...process.env,
  ...found,
  ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: '1' } : {}),
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const results = [];
for (const step of ['build', ...suites]) {
  if (interrupted) break;
  log(`==== ${step}`);
  const t0 = Date.now();
  const { code, tests } = await run(npm, ['run', step === 'build' ? 'build' : `test:${step}`], env);
  results.push({ step, code, tests, seconds: Math.round((Date.now() - t0) / 1000) });
}

log('==== summary');
const width = Math.max(...results.map((r) => r.step.length));
for (const { step, code, tests, seconds } of results) {
  const verdict = code === 0 ? 'ok' : `FAILED (exit ${code})`;
  const counts = tests.length > 0 ? `, tests: ${tests.join('; ')}` : step === 'build' ? '' : ', no test ran';
  log(`${`${step}:`.padEnd(width + 1)} ${verdict}${counts} (${seconds} s)`);
}
for (const step of ['build', ...suites].slice(results.length)) log(`${step}: not run (interrupted)`);
const failed = results.filter((r) => r.code !== 0).map((r) => r.step);
if (interrupted) {
  log(`npm test interrupted (${interrupted})`);
  process.exit(interrupted === 'SIGINT' ? 130 : 143);
}
log(failed.length === 0 ? 'npm test passed' : `npm test FAILED: ${failed.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
