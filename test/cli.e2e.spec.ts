import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { authorize, pkcePair } from './support/authorize.js';
import { freePort, type RunningSystem, startSystem } from './support/system.js';

/**
 * The operator CLI as an operator and a script meet it: the built CLI (dist/), run as
 * `npm run -s cli -- …` or `node dist/apps/cli/src/main.js …`, against a really started system.
 */

const CLI = resolve(process.cwd(), 'dist/apps/cli/src/main.js');

// Each case runs the CLI several times, a process each: on a busy machine that outlasts 30 s.
jest.setTimeout(180000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; resolves with its exit code and output, whatever the code. */
function run(args: string[], env: Record<string, string> = {}, viaNpm = false): Promise<Run> {
  const [file, argv] = viaNpm
    ? ['npm', ['run', '--silent', 'cli', '--', ...args]]
    : [process.execPath, [CLI, ...args]];
  return new Promise((done) => {
    execFile(
      file,
      argv,
      // ADMIN_URL of the test's own environment must not switch the mode.
      { env: { ...process.env, ADMIN_URL: '', ...env }, timeout: 120000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

interface Leaf {
  path: string[];
  json: boolean;
}

/**
 * Walks the command tree from the root's --help: every command and subcommand listed under
 * "Commands:" is visited (so a new one cannot be missed); each --help must exit 0.
 */
async function walk(path: string[], leaves: Leaf[], visited: string[][]): Promise<void> {
  const help = await run([...path, '--help']);
  visited.push(path);
  expect({ path, code: help.code }).toEqual({ path, code: 0 });
  expect(help.stdout).toMatch(/^Usage: /);
  const section = /\nCommands:\n([\s\S]*?)(\n\n|$)/.exec(help.stdout)?.[1];
  const children = (section ?? '')
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z0-9-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
  if (children.length === 0) {
    leaves.push({ path, json: /^\s+--json\b/m.test(help.stdout) });
    return;
  }
  for (const child of children) await walk([...path, child], leaves, visited);
}

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Member names not in snake_case; an event's `data` and `metadata` are the recorded payload. */
function nonSnakeKeys(value: unknown, at = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nonSnakeKeys(v, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(SNAKE.test(k) ? [] : [`${at}.${k}`]),
    ...(/\.events\[\d+\]$/.test(at) && (k === 'data' || k === 'metadata')
      ? []
      : nonSnakeKeys(v, `${at}.${k}`)),
  ]);
}

const leaves: Leaf[] = [];
const visited: string[][] = [];

describe('operator CLI: command tree, usage errors and unreachable dependencies (no system)', () => {
  beforeAll(async () => {
    await walk([], leaves, visited);
  }, 600000);

  it('--help on every command and subcommand exits 0 with usage', () => {
    const names = visited.map((p) => p.join(' '));
    // The tree as it stands; new commands join by themselves.
    for (const known of [
      'clients create',
      'users revoke-consent',
      'keys retire',
      'audit verify',
      'migrate',
      'start',
    ])
      expect(names).toContain(known);
    expect(leaves.length).toBeGreaterThanOrEqual(34);
  });

  it('an unknown command, subcommand or option exits 2 naming it, with a hint', async () => {
    for (const [args, named] of [
      [['bogus'], /unknown command 'bogus'/],
      [['clients', 'bogus'], /unknown command 'bogus'/],
      [['clients', 'list', '--bogus'], /unknown option '--bogus'/],
      [['keys', 'list', '--jsn'], /unknown option '--jsn'/],
      [['--bogus'], /unknown option '--bogus'/],
    ] as const) {
      const r = await run([...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(named);
      expect(r.stderr).toMatch(/--help/);
      expect(r.stdout).toBe('');
    }
    // A group without its subcommand, a missing argument, a bad value: usage errors too.
    expect((await run(['clients'])).code).toBe(2);
    expect((await run(['keys', 'retire'])).stderr).toMatch(/missing required argument 'kid'/);
    expect((await run(['clients', 'list', '--limit', '0'])).code).toBe(2);
  });

  it('a wrong NATS address: exit 1, the address and NATS_URL named, no stack trace', async () => {
    const port = await freePort();
    const env = {
      NATS_URL: `nats://cli:s3cret@127.0.0.1:${port}`,
      ADMIN_TOKEN: 'a'.repeat(43),
      HOME: '/nonexistent',
    };
    for (const args of [
      ['clients', 'list', '--json'],
      ['keys', 'list'],
      ['users', 'list'],
    ]) {
      const r = await run(args, env);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
      expect(r.stderr).toContain('NATS_URL');
      expect(r.stderr).not.toContain('s3cret');
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).toBe('');
    }
  });

  it('a wrong Postgres address: exit 1, the address and DATABASE_URL named, no stack trace', async () => {
    const port = await freePort();
    for (const args of [
      ['audit', 'verify'],
      ['audit', 'hash-keys', '--json'],
      ['projections', 'rebuild'],
      ['retention', 'run', '--dry-run'],
    ]) {
      const r = await run(args, { DATABASE_URL: `postgres://postgres:pw@127.0.0.1:${port}/authz` });
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
      expect(r.stderr).toContain('DATABASE_URL');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it('an unreachable admin API: exit 1, the address and the setting named', async () => {
    const port = await freePort();
    const r = await run(['clients', 'list', '--json'], {
      ADMIN_URL: `http://127.0.0.1:${port}`,
      ADMIN_TOKEN: 'a'.repeat(43),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).toContain('ADMIN_URL');
  });
});

describe('operator CLI against the running system', () => {
  let system: RunningSystem;
  const env = () => system.env;

  beforeAll(async () => {
    system = await startSystem();
    if (leaves.length === 0) await walk([], leaves, visited);
  }, 600000);

  afterAll(async () => {
    await system?.stop();
  });

  /** `npm run -s cli -- … --json`: exit 0, stdout one JSON document with snake_case members. */
  async function json(args: string[], extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
    // Options go before a `--` that ends them (a key id may begin with `-`).
    const end = args.indexOf('--');
    const withJson = end < 0 ? [...args, '--json'] : [...args.slice(0, end), '--json', ...args.slice(end)];
    const r = await run(withJson, { ...env(), ...extra }, true);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: r.stderr });
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect({ args, nonSnake: nonSnakeKeys(doc) }).toEqual({ args, nonSnake: [] });
    return doc;
  }

  it('every command that prints data prints one snake_case JSON document with --json', async () => {
    const covered = new Set<string>();
    const cover = async (args: string[], words = args.length) => {
      covered.add(args.slice(0, words).join(' '));
      return json(args);
    };
    expect(await cover(['demo-client'])).toHaveProperty('client_secret');
    expect(await cover(['demo-user'])).toMatchObject({ username: 'demo' });
    const created = await cover(
      ['clients', 'create', '--name', 'cli json', '--grant', 'client_credentials', '--scope', 'read write'],
      2,
    );
    const id = String(created.client_id);
    expect(created).toMatchObject({ client_name: 'cli json', grant_types: ['client_credentials'] });
    expect(created.client_secret).toEqual(expect.any(String));
    const listed = await cover(['clients', 'list', '--limit', '100'], 2);
    expect((listed.clients as { client_id: string }[]).map((c) => c.client_id)).toContain(id);
    expect(await cover(['clients', 'show', id], 2)).toMatchObject({ client_id: id, scope: 'read write' });
    const metadata = JSON.stringify({
      client_name: 'cli json 2',
      grant_types: ['client_credentials'],
      scope: 'read write',
    });
    expect(await cover(['clients', 'update', id, '--metadata', metadata], 2)).toMatchObject({
      client_name: 'cli json 2',
    });
    expect(await cover(['clients', 'rotate-secret', id, '--grace', '5'], 2)).toMatchObject({ client_id: id });
    expect(await cover(['clients', 'grant-scope', id, 'admin'], 2)).toHaveProperty('client_id', id);
    expect(await cover(['clients', 'revoke-scope', id, 'admin'], 2)).toHaveProperty('client_id', id);
    expect(await cover(['clients', 'disable', id], 2)).toMatchObject({ status: 'disabled' });
    const history = await cover(['clients', 'history', id], 2);
    expect((history.events as { type: string }[]).map((e) => e.type)).toContain('ClientDisabled');
    const iat = await cover(['clients', 'initial-access-token', '--max-uses', '1'], 2);
    expect(iat).toMatchObject({ max_uses: 1, initial_access_token: expect.any(String) });
    const iats = await cover(['clients', 'initial-access-tokens'], 2);
    expect((iats.initial_access_tokens as { id: string }[]).map((t) => t.id)).toContain(iat.id);
    expect(await cover(['clients', 'revoke-initial-access-token', String(iat.id)], 2)).toMatchObject({
      id: iat.id,
      status: 'revoked',
    });
    expect(await cover(['clients', 'delete', id], 2)).toEqual({ client_id: id, deleted: true });

    const user = await cover(['users', 'create', 'cli-json', '--password', 'cli-json-password-1'], 2);
    expect(user).toMatchObject({ username: 'cli-json', status: 'active', created_at: expect.any(String) });
    expect(
      ((await cover(['users', 'list'], 2)).users as { username: string }[]).map((u) => u.username),
    ).toContain('cli-json');
    expect(await cover(['users', 'show', 'cli-json'], 2)).toEqual(user);
    expect(
      await cover(['users', 'set-password', 'cli-json', '--password', 'cli-json-password-2'], 2),
    ).toEqual(user);
    expect(await cover(['users', 'disable', 'cli-json'], 2)).toMatchObject({ status: 'disabled' });
    expect(await cover(['users', 'enable', 'cli-json'], 2)).toMatchObject({ status: 'active' });
    // A browser session of the user (a login through the authorization endpoint), listed and ended.
    const browserClient = await system.createClient([
      '--name',
      'cli sessions',
      '--grant',
      'authorization_code',
      '--scope',
      'read',
      '--redirect-uri',
      'https://app.test/cb',
    ]);
    await authorize(system, {
      clientId: browserClient.client_id,
      redirectUri: 'https://app.test/cb',
      scope: 'read',
      codeChallenge: pkcePair().challenge,
      username: 'cli-json',
      password: 'cli-json-password-2',
    });
    const sessions = (await cover(['users', 'sessions', 'cli-json'], 2)).sessions as { sid: string }[];
    expect(sessions).toHaveLength(1);
    expect(await cover(['users', 'end-session', 'cli-json', sessions[0]!.sid], 2)).toEqual({ ended: true });
    expect(await cover(['users', 'consents', 'cli-json'], 2)).toEqual({
      sub: user.sub,
      consents: [{ client_id: browserClient.client_id, scope: 'read', granted_at: expect.any(String) }],
    });
    expect(await cover(['users', 'revoke-consent', 'cli-json', 'demo-service'], 2)).toEqual({
      revoked: false,
      grants_revoked: 0,
    });
    // GDPR Art. 17: by sub; the user stays listed, pseudonymous.
    expect(await cover(['users', 'erase', String(user.sub)], 2)).toEqual({
      sub: user.sub,
      username: '[erased]',
      email: null,
      name: null,
      status: 'erased',
      created_at: user.created_at,
    });

    const keys = (await cover(['keys', 'list'], 2)).keys as { kid: string; status: string }[];
    const old = keys.find((k) => k.status === 'active')!;
    expect(old).toHaveProperty('in_jwks', true);
    expect(await cover(['keys', 'rotate'], 2)).toMatchObject({ outcome: 'published' });
    expect(await cover(['keys', 'rotate', '--now'], 2)).toMatchObject({ outcome: 'activated' });
    expect(await cover(['keys', 'retire', '--withdraw', '--', old.kid], 2)).toMatchObject({
      kid: old.kid,
      status: 'retired',
      in_jwks: false,
    });

    // Retention (docs/retention.md): the session ended above is archived at once with 0 days kept,
    // then restored, so that the chain below verifies with no archive.
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const retention = {
      RETENTION_ARCHIVE_DIR: await mkdtemp(join(tmpdir(), 'cli-retention-')),
      RETENTION_SIGNING_KEY: JSON.stringify(await exportJWK(privateKey)),
      RETENTION_SESSION_DAYS: '0',
      RETENTION_GRANT_DAYS: '36500',
      RETENTION_ACCESS_TOKEN_DAYS: '36500',
    };
    covered.add('retention run');
    const sid = sessions[0]!.sid;
    expect(await json(['retention', 'run', '--dry-run'], retention)).toMatchObject({
      dry_run: true,
      cpu_priority: 19,
      streams: [`session-${sid}`],
    });
    expect(await json(['retention', 'run'], retention)).toMatchObject({
      streams: [`session-${sid}`],
      archives: [{ streams: 1, resumed: false }],
    });
    expect(await json(['audit', 'verify'], retention)).toMatchObject({
      intact: true,
      archived: expect.any(Number),
    });
    covered.add('retention restore');
    expect(await json(['retention', 'restore', `session-${sid}`], retention)).toMatchObject({
      stream_id: `session-${sid}`,
    });
    expect(await cover(['audit', 'verify'])).toMatchObject({ intact: true, break: null });
    // Signed checkpoints (docs/events.md "Checkpoints"): a key made by the CLI, one written, then verified.
    const keygen = await run(['audit', 'checkpoint-keygen'], env());
    expect(keygen.code).toBe(0);
    const signingKey = { AUDIT_CHECKPOINT_SIGNING_KEY: keygen.stdout.trim() };
    const checkpointDir = mkdtempSync(join(tmpdir(), 'cli-checkpoints-'));
    covered.add('audit checkpoint');
    const checkpoint = await json(['audit', 'checkpoint', '--dir', checkpointDir], signingKey);
    expect((checkpoint.written as unknown[]).length).toBeGreaterThan(0);
    expect(await json(['audit', 'verify', '--checkpoints', checkpointDir], signingKey)).toMatchObject({
      intact: true,
      checkpoints: { ok: true },
    });
    rmSync(checkpointDir, { recursive: true, force: true });
    expect(Array.isArray(await cover(['audit', 'hash-keys']))).toBe(true);
    expect(await cover(['projections', 'rebuild'], 2)).toMatchObject({ equal: true });

    // Every command whose --help offers --json is covered above.
    const offering = leaves.filter((l) => l.json).map((l) => l.path.join(' '));
    expect([...covered].sort()).toEqual([...offering].sort());
  }, 600000);

  it('stdout holds the result alone: no log line before it; with --json each stderr line is JSON', async () => {
    // LOG_LEVEL=log lets Nest's NATS client log its connection status.
    const text = await run(['keys', 'list'], { ...env(), LOG_LEVEL: 'log' });
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^KID\s+ALG\s+STATUS/);
    expect(text.stdout).not.toContain('\x1b[');
    const r = await run(['clients', 'list', '--json'], { ...env(), LOG_LEVEL: 'log' });
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
    const logged = r.stderr.split('\n').filter((l) => l !== '');
    // Nest's NATS client said something (its status), and said it on stderr, as JSON.
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(JSON.parse(line)).toMatchObject({ level: expect.any(String) });
  });

  it('HTTP mode: clients and users through the admin API print what NATS mode prints', async () => {
    const http = { ADMIN_URL: system.adminUrl };
    const created = await json(
      ['clients', 'create', '--name', 'cli http', '--grant', 'client_credentials', '--scope', 'read'],
      http,
    );
    const id = String(created.client_id);
    expect(created.client_secret).toEqual(expect.any(String));
    // The same client, read over NATS and over HTTP: the same document.
    expect(await json(['clients', 'show', id], http)).toEqual(await json(['clients', 'show', id]));
    const rotated = await json(['clients', 'rotate-secret', id], http);
    expect(rotated).toMatchObject({ client_id: id, client_secret: expect.any(String) });
    expect(await json(['clients', 'disable', id], http)).toMatchObject({ status: 'disabled' });
    const viaHttp = await json(['clients', 'history', id], http);
    const viaNats = await json(['clients', 'history', id]);
    expect(viaHttp.events).toEqual(viaNats.events);
    expect(await json(['clients', 'delete', id], http)).toEqual({ client_id: id, deleted: true });

    const iat = await json(['clients', 'initial-access-token', '--ttl', '60'], http);
    expect(await json(['clients', 'revoke-initial-access-token', String(iat.id)], http)).toEqual(
      ((await json(['clients', 'initial-access-tokens'])).initial_access_tokens as { id: string }[]).find(
        (t) => t.id === iat.id,
      ),
    );

    const user = await json(['users', 'create', 'cli-http', '--password', 'cli-http-password-1'], http);
    expect(await json(['users', 'show', 'cli-http'], http)).toEqual(
      await json(['users', 'show', 'cli-http']),
    );
    expect(await json(['users', 'disable', 'cli-http'], http)).toMatchObject({
      sub: user.sub,
      status: 'disabled',
    });
    expect(await json(['users', 'consents', 'cli-http'], http)).toEqual({ sub: user.sub, consents: [] });

    // --admin-url on the command line does the same as ADMIN_URL.
    const flag = await run(['--admin-url', system.adminUrl, 'users', 'list', '--json'], env());
    expect(flag.code).toBe(0);
    expect((JSON.parse(flag.stdout) as { users: unknown[] }).users.length).toBeGreaterThan(0);

    // A wrong token: the admin API's refusal, exit 1.
    const refused = await run(['clients', 'list'], { ...env(), ...http, ADMIN_TOKEN: 'b'.repeat(43) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/invalid_token/);
  }, 300000);

  it('HTTP mode: commands that need NATS or Postgres themselves refuse and say where to run them', async () => {
    for (const args of [['keys', 'list'], ['audit', 'verify'], ['projections', 'rebuild'], ['demo-client']]) {
      const r = await run(args, { ...env(), ADMIN_URL: system.adminUrl });
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(/needs direct access to (NATS|Postgres)/);
      expect(r.stderr).toContain('Running the CLI in a cluster');
    }
  });
});
