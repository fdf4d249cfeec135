import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

/**
 * `npm test` (scripts/test.mjs) first makes sure of what its suites need with the code CI uses
 * (.ci/ensure-services.sh): where something is missing and this user may not install it, it stops
 * before the build and before any suite, with one line naming what is missing and the command that
 * installs it, instead of a wall of browser-launch failures.
 */
describe('npm test: prerequisites before any suite (scripts/test.mjs, .ci/ensure-services.sh)', () => {
  const ROOT = process.cwd();
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'npm-test-spec-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A directory holding every command of PATH but `command`: this machine without it. */
  function pathWithout(command: string): string {
    const bin = join(dir, `path-without-${command}`);
    mkdirSync(bin);
    for (const source of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      let names: string[];
      try {
        names = readdirSync(source);
      } catch {
        continue; // a PATH entry that does not exist
      }
      for (const name of names) {
        if (name === command) continue;
        try {
          symlinkSync(join(source, name), join(bin, name));
        } catch {
          // an earlier PATH entry provides this name, and wins as in a shell
        }
      }
    }
    return bin;
  }

  interface Outcome {
    code: number | null;
    stdout: string;
    stderr: string;
    killed: boolean;
  }

  /** Runs `npm test`'s entry with `env`; kills it (and says so) if it has not ended within 60 s. */
  function npmTest(env: Record<string, string | undefined>): Promise<Outcome> {
    return new Promise((done) => {
      const merged: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) merged[k] = v;
      const child = spawn(process.execPath, [resolve(ROOT, 'scripts/test.mjs')], {
        cwd: ROOT,
        env: merged,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let killed = false;
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ code, stdout, stderr, killed });
      });
    });
  }

  /** Stopped by the prerequisites: before the build, before any suite, with one line on stderr. */
  function expectStoppedBeforeAnySuite(outcome: Outcome): string {
    expect(outcome.killed).toBe(false);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).not.toContain('==== build');
    expect(outcome.stdout + outcome.stderr).not.toContain('Tests:');
    const lines = outcome.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    return lines[0]!;
  }

  it('Chromium absent from PATH and no right to install it: one line naming it and its install command', async () => {
    const outcome = await npmTest({
      PATH: pathWithout('chromium'),
      CHROMIUM_PATH: undefined,
      // What a user without root or passwordless sudo gets: nothing may be installed or started.
      ENSURE_SERVICES: 'check',
    });
    expect(expectStoppedBeforeAnySuite(outcome)).toBe(
      '[test] ERROR: chromium (the headless browser of the browser tests; none found on PATH) is missing; ' +
        'install it with: sudo apt-get install -y chromium',
    );
  }, 90_000);

  it('CHROMIUM_PATH naming no executable: one line, whoever runs it (nothing to install there)', async () => {
    const missing = join(dir, 'no-such-chromium');
    const outcome = await npmTest({ CHROMIUM_PATH: missing });
    expect(expectStoppedBeforeAnySuite(outcome)).toBe(
      `[test] ERROR: CHROMIUM_PATH=${missing} is not an executable file; point it at a Chromium binary, ` +
        "or unset it to use Debian's chromium (sudo apt-get install -y chromium)",
    );
  }, 90_000);

  it('a Postgres that is down and may not be started: one line naming the server and how to start it', async () => {
    const outcome = await npmTest({
      // A port of this machine nothing listens on (port 1 is privileged and never a Postgres).
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres',
      ENSURE_SERVICES: 'check',
    });
    expect(expectStoppedBeforeAnySuite(outcome)).toMatch(
      /^\[test\] ERROR: PostgreSQL is not running on 127\.0\.0\.1:1; start it /,
    );
  }, 90_000);

  it('with everything there, the check changes nothing and hands the suites the browser it checked', () => {
    const envFile = join(dir, 'found.env');
    return new Promise<void>((done, fail) => {
      const child = spawn('bash', [resolve(ROOT, '.ci/ensure-services.sh')], {
        env: { ...process.env, ENSURE_SERVICES: 'check', CI_ENSURE_ENV_FILE: envFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => {
        try {
          expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
          const found = readFileSync(envFile, 'utf8');
          expect(found).toMatch(/^CHROMIUM_PATH=\/.+\nNATS_SERVER_BIN=\/.+\n$/);
          done();
        } catch (err) {
          fail(err as Error);
        }
      });
    });
  }, 60_000);

  it('runs every suite even after one failed, prints one summary line per suite and exits 1', () => {
    // The real runner and the real prerequisite check, in a scratch project whose suites are stubs:
    // unit and e2e fail, the others pass; each writes a line, so what ran can be counted.
    const project = join(dir, 'runner');
    mkdirSync(join(project, 'scripts'), { recursive: true });
    mkdirSync(join(project, '.ci'), { recursive: true });
    writeFileSync(join(project, 'scripts/test.mjs'), readFileSync(resolve(ROOT, 'scripts/test.mjs')));
    for (const name of readdirSync(resolve(ROOT, '.ci'))) {
      writeFileSync(join(project, '.ci', name), readFileSync(resolve(ROOT, '.ci', name)));
    }
    const suite = (name: string, fails: boolean) =>
      `node -e "console.log('ran ${name}'); console.log('Tests:       ${fails ? '1 failed, ' : ''}1 passed, ${fails ? 2 : 1} total'); process.exit(${fails ? 1 : 0})"`;
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'runner-check',
        private: true,
        scripts: {
          build: 'node -e "0"',
          'test:unit': suite('unit', true),
          'test:int': suite('int', false),
          'test:e2e': suite('e2e', true),
          'test:attacks': suite('attacks', false),
          'test:faults': suite('faults', false),
        },
      }),
    );
    return new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, [join(project, 'scripts/test.mjs')], {
        cwd: project,
        env: { ...process.env, ENSURE_SERVICES: 'check' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('close', (code) => {
        try {
          expect(code).toBe(1);
          expect(stdout.match(/^ran \w+$/gm)).toEqual([
            'ran unit',
            'ran int',
            'ran e2e',
            'ran attacks',
            'ran faults',
          ]);
          const summary = stdout.slice(stdout.indexOf('[test] ==== summary'));
          expect(summary).toMatch(/\[test\] unit: +FAILED \(exit 1\), tests: 1 failed, 1 passed, 2 total/);
          expect(summary).toMatch(/\[test\] int: +ok, tests: 1 passed, 1 total/);
          expect(summary).toMatch(/\[test\] e2e: +FAILED \(exit 1\)/);
          expect(summary).toMatch(/\[test\] faults: +ok/);
          expect(summary).toMatch(/\[test\] npm test FAILED: unit, e2e$/m);
          done();
        } catch (err) {
          fail(new Error(`${(err as Error).message}\n${stdout}`));
        }
      });
    });
  }, 120_000);
});
