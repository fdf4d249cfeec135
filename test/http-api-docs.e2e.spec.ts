import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROUTES } from './support/fuzz/routes.js';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * docs/http-api.md is a walkthrough of every endpoint with curl. Its shell blocks run here, in
 * order, as one bash session against a started system (every curl with -f, so an error status
 * fails the run), and every operation of the served OpenAPI document must have a curl example
 * there: the page cannot drift from the server.
 */
const DOC = resolve('docs/http-api.md');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The fenced `sh` blocks of a markdown page, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Each curl invocation of a script as "METHOD /path/{}" (continuation lines joined). */
function curlOperations(script: string): string[] {
  const lines = script.replace(/\\\n\s*/g, ' ').split('\n');
  const operations: string[] = [];
  for (const line of lines) {
    for (const call of line.split(/(?=\bcurl\s)/).filter((part) => part.startsWith('curl '))) {
      const url = /"?\$(AS|ADMIN|REG_URI)\b([^"\s)]*)"?/.exec(call);
      if (url === null) continue;
      const explicit = /\s-X\s+([A-Z]+)/.exec(call)?.[1];
      const hasBody = /\s(-d|--data[\w-]*)\s/.test(call) && !/\s-G\s/.test(call);
      const method = explicit ?? (hasBody ? 'POST' : 'GET');
      const path = url[1] === 'REG_URI' ? '/register/$ID' : url[2]!.split('?')[0]!;
      operations.push(`${method} ${path.replace(/\$\w+/g, '{}')}`);
    }
  }
  return operations;
}

describe('docs/http-api.md: every endpoint with curl, run against the system', () => {
  let system: RunningSystem;
  let workdir: string;

  beforeAll(async () => {
    system = await startSystem();
    workdir = mkdtempSync(join(tmpdir(), 'http-api-docs-'));
  }, 90000);

  afterAll(async () => {
    await system?.stop();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  }, 30000);

  it('finds the curl calls of a block (the checker itself)', () => {
    expect(
      curlOperations(
        'X=$(curl -fsS -H "$AUTH" "$ADMIN/admin/clients/$ID?x=1")\ncurl -fsS -X DELETE "$ADMIN/admin/a/$B/c"\n' +
          'curl -fsS -u "$A:$B" "$AS/token" \\\n  -d grant_type=x\ncurl -G "$AS/authorize" -d a=b\ncurl "$REG_URI"',
      ),
    ).toEqual([
      'GET /admin/clients/{}',
      'DELETE /admin/a/{}/c',
      'POST /token',
      'GET /authorize',
      'GET /register/{}',
    ]);
  });

  /** Every operation of the served OpenAPI document as "METHOD /path/{}". */
  async function openApiOperations(): Promise<string[]> {
    const doc = (await (await fetch(`${system.adminUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`),
    );
  }

  it('has a curl example for every operation of the OpenAPI document', async () => {
    const documented = new Set(curlOperations(shellBlocks(readFileSync(DOC, 'utf8')).join('\n')));
    const operations = await openApiOperations();
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((operation) => !documented.has(operation))).toEqual([]);
  });

  it("the fuzzer's route table (test/faults/http-fuzz) has a row for every operation", async () => {
    const fuzzed = new Set(
      ROUTES.flatMap((route) => route.methods.map((m) => `${m} ${route.path.replace(/:\w+/g, '{}')}`)),
    );
    const operations = await openApiOperations();
    expect(operations.filter((operation) => !fuzzed.has(operation))).toEqual([]);
  });

  it('runs every block in order, each curl answered with a success status', () => {
    const script = [
      'set -euo pipefail',
      `trap 'echo "failed: $BASH_COMMAND" >&2' ERR`,
      ...shellBlocks(readFileSync(DOC, 'utf8')),
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], {
      cwd: workdir,
      env: {
        PATH: process.env.PATH!,
        HOME: workdir,
        AS: system.baseUrl,
        ADMIN: system.adminUrl,
        ADMIN_TOKEN: system.adminToken,
      },
      encoding: 'utf8',
      timeout: 120000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect({ status: run.status, tail: run.status === 0 ? '' : output.slice(-3000) }).toEqual({
      status: 0,
      tail: '',
    });
    // What the blocks print: an active token introspected, then inactive after revocation.
    expect(run.stdout).toMatch(/"active": true/);
    expect(run.stdout).toMatch(/^false$/m);
    expect(run.stdout).toContain('AuthorizationCodeRedeemed');
  }, 150000);
});
