import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = resolve('scripts/check-comments.mjs');

/** Runs scripts/check-comments.mjs over `root`; its exit code and output. */
async function check(root: string, ...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, '--root', root, ...args]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('scripts/check-comments.mjs: comments under apps/ and libs/ carry no internal ids', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'check-comments-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const file = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  it('passes a tree whose comments cite RFC sections, even with ids in strings, test files and testing/', async () => {
    file(
      'libs/a/src/good.ts',
      [
        '/**',
        ' * RFC 6749 §4.1.3: the code was issued to this client; UTF-16 code units, SHA-256.',
        ' */',
        "export const note = 'TOK-07 // checklist decision 5'; // RFC 9700 §4.14.2",
        'export const re = /issue 9/; /* OAuth 2.1 §7.5.3 */',
        '',
      ].join('\n'),
    );
    file('libs/a/src/good.unit.spec.ts', '// TOK-07: ids stay in tests\n');
    file('libs/a/src/testing/fixture.ts', '// checklist RT-02\n');
    file('apps/b/src/main.ts', '// Issues a token (RFC 6749 §5.1).\nexport {};\n');
    const { code, output } = await check(root);
    expect(output).toContain('no internal ids');
    expect(code).toBe(0);
  });

  it.each([
    ['a case id', '// Reuse revokes the family (RT-02).', 'RT-02'],
    ['a longer case id', 'const x = 1; // CAUTH-20: a decoy read', 'CAUTH-20'],
    ['a lettered case id', '// A repeated challenge is logged (PKCE-A09).', 'PKCE-A09'],
    ['a decision', '/**\n * PKCE S256 only\n * (decision 1).\n */', 'decision 1'],
    ['an issue', '/* issue 8: graceful close */', 'issue 8'],
    ['the word checklist', '// see the checklist', 'checklist'],
  ])('fails on a comment naming %s, with file:line', async (_what, comment, id) => {
    file('apps/b/src/bad.ts', `export const a = 1;\n${comment}\nexport const b = 2;\n`);
    const line = 2 + comment.split('\n').findIndex((l) => l.includes(id));
    const { code, output } = await check(root);
    expect(code).toBe(1);
    expect(output).toContain(`apps/b/src/bad.ts:${line}: ${id}`);
  });

  it('--list prints the same findings and exits 0', async () => {
    file('libs/a/src/bad.ts', '// TOK-07: a wrong client does not burn the code\nexport {};\n');
    const { code, output } = await check(root, '--list');
    expect(code).toBe(0);
    expect(output).toContain('libs/a/src/bad.ts:1: TOK-07');
  });
});
