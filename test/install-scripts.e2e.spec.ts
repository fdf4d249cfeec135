import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs scripts/install-scripts.mjs on a tree; resolves to its exit code and output. */
async function check(root: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'scripts/install-scripts.mjs')]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** A tree with one production dependency `evil` whose postinstall runs, and the given Dockerfile. */
function tree(options: { allowScripts?: Record<string, boolean>; dockerfile: string }): string {
  const root = mkdtempSync(join(tmpdir(), 'install-scripts-'));
  mkdirSync(join(root, 'scripts'));
  copyFileSync(resolve('scripts/install-scripts.mjs'), join(root, 'scripts/install-scripts.mjs'));
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 't', dependencies: { evil: '1.0.0' }, allowScripts: options.allowScripts ?? {} }),
  );
  writeFileSync(
    join(root, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      packages: { '': { name: 't' }, 'node_modules/evil': { version: '1.0.0', hasInstallScript: true } },
    }),
  );
  mkdirSync(join(root, 'node_modules/evil'), { recursive: true });
  writeFileSync(
    join(root, 'node_modules/evil/package.json'),
    JSON.stringify({ name: 'evil', version: '1.0.0', scripts: { postinstall: 'node ./phone-home.js' } }),
  );
  writeFileSync(join(root, 'Dockerfile'), options.dockerfile);
  return root;
}

describe('install scripts of the production tree (checklist COST-09)', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  it('COST-09: the project passes: every production install script reviewed, none run in the image', async () => {
    const { code, output } = await check(resolve('.'));
    expect([code, output]).toEqual([0, expect.stringContaining('install-scripts: ok')]);
  });

  it('COST-09: an unreviewed postinstall of a production dependency fails the check, naming it', async () => {
    const root = tree({ dockerfile: 'RUN npm ci --omit=dev --ignore-scripts\n' });
    roots.push(root);
    const { code, output } = await check(root);
    expect(code).toBe(1);
    expect(output).toContain('evil');
  });

  it('COST-09: a Dockerfile npm ci without --ignore-scripts fails the check, even with the script denied', async () => {
    const root = tree({ allowScripts: { evil: false }, dockerfile: 'RUN npm ci --omit=dev\n' });
    roots.push(root);
    const { code, output } = await check(root);
    expect(code).toBe(1);
    expect(output).toMatch(/ignore-scripts/);
  });
});
