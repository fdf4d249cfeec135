import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './system.js';

/**
 * A Postgres server of the test's own (initdb in a temporary folder, on a free port), so that a
 * test may stop and restart it without touching the machine's shared server. Postgres refuses to
 * run as root: when the test runs as root, the server runs as the `postgres` user.
 */
const BIN = process.env.PG_BIN_DIR ?? findBinDir();

function findBinDir(): string {
  for (const v of ['17', '16', '15', '14', '13']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return '';
}

export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly asUser: string | null,
  ) {}

  static available(): boolean {
    return BIN !== '';
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(args: string[]): void {
    const cmd = join(BIN, args[0]!);
    const rest = args.slice(1);
    const result = this.asUser
      ? spawnSync('su', [this.asUser, '-s', '/bin/sh', '-c', [cmd, ...rest].map(quote).join(' ')], {
          encoding: 'utf8',
        })
      : spawnSync(cmd, rest, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr || result.stdout}`);
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'pg-private-'));
    const asUser = process.getuid?.() === 0 ? 'postgres' : null;
    if (asUser) {
      const uid = Number(execFileSync('id', ['-u', asUser], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, -1);
    }
    const pgsql = new PrivatePostgres(await freePort(), dir, asUser);
    pgsql.run(['initdb', '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    pgsql.start();
    return pgsql;
  }

  start(): void {
    this.run([
      'pg_ctl',
      '-D',
      join(this.dir, 'data'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-l',
      join(this.dir, 'log'),
      '-w',
      'start',
    ]);
  }

  /** Immediate shutdown: connections are cut as in a crash. */
  stop(): void {
    this.run(['pg_ctl', '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
