import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One owner per aggregate (docs/architecture.md "Aggregates and their owners"): the events of a
 * stream prefix are appended by one app only; any other app that needs it changed asks the owner
 * over NATS. Read from the sources: a file that appends (appendToStream, appendMany, or an
 * AppendRequest literal with `expectedVersion`) appends to the streams whose id builders it calls;
 * a library file appends on behalf of every app that imports it, directly or through other library
 * files. Tests and `testing/` helpers are left out; so is libs/event-store, the store itself.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Stream prefix → the only app that appends to it. */
const OWNERS: Record<string, string> = {
  'client-*': 'client-registry',
  'client-assertion-*': 'client-registry',
  'initial-access-token-*': 'client-registry',
  'user-*': 'consent',
  'username-*': 'consent',
  'consent-*': 'consent',
  'session-*': 'consent',
  'grant-*': 'token',
  'access-token-*': 'token',
  'signing-keyring': 'token',
};

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'testing' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const dirs = (parent: string) =>
  readdirSync(join(ROOT, parent)).filter((d) => statSync(join(ROOT, parent, d)).isDirectory());
const apps = dirs('apps');
const libs = dirs('libs').filter((lib) => lib !== 'event-store');
const appFiles = new Map(apps.map((app) => [app, sources(join(ROOT, 'apps', app, 'src'))]));
const libFiles = new Map(libs.map((lib) => [lib, sources(join(ROOT, 'libs', lib, 'src'))]));
const text = new Map(
  [...appFiles.values(), ...libFiles.values()].flat().map((f) => [f, readFileSync(f, 'utf8')]),
);

/** The file of `lib` that declares the exported `name`. */
function declaringFiles(lib: string, name: string): string[] {
  const declared = new RegExp(
    `export\\s+(?:declare\\s+)?(?:async\\s+)?(?:function\\*?|class|const|let|enum|abstract\\s+class)\\s+${name}\\b`,
  );
  return (libFiles.get(lib) ?? []).filter((f) => declared.test(text.get(f)!));
}

/** The library files a file's runtime imports reach (type-only imports run nothing). */
function importsOf(file: string): string[] {
  const out: string[] = [];
  const source = text.get(file)!;
  for (const m of source.matchAll(/import\s+(type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    if (m[1]) continue;
    const names = m[2]!
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '' && !n.startsWith('type '))
      .map((n) => n.split(/\s+as\s+/)[0]!);
    const from = m[3]!;
    const lib = /^#lib\/([\w-]+)$/.exec(from)?.[1];
    if (lib !== undefined) out.push(...names.flatMap((n) => declaringFiles(lib, n)));
    else if (from.startsWith('.')) {
      const target = resolve(dirname(file), from.replace(/\.js$/, '.ts'));
      if (text.has(target)) out.push(target);
    }
  }
  return out;
}

function reach(start: string[]): Set<string> {
  const seen = new Set<string>(start);
  const todo = [...start];
  while (todo.length > 0) {
    for (const next of importsOf(todo.pop()!)) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

/** Exported stream id builders and constants (`xStreamId`, `xStreamIdOf`, `X_STREAM`) by lib. */
function builders(): { lib: string; name: string }[] {
  const found: { lib: string; name: string }[] = [];
  for (const [lib, files] of libFiles) {
    for (const f of files) {
      for (const m of text
        .get(f)!
        .matchAll(/export\s+(?:const|function)\s+(\w+StreamId(?:Of)?|[A-Z][A-Z_]*_STREAM)\b/g))
        found.push({ lib, name: m[1]! });
    }
  }
  return found;
}

/** The prefix a builder gives (`grant-*`), or the stream id of a constant. */
function prefixOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const f = value as (...args: string[]) => string;
  const samples = [f('alpha', 'beta'), f('gamma', 'delta'), f('omega', 'kappa')];
  let common = samples[0]!;
  for (const s of samples) while (!s.startsWith(common)) common = common.slice(0, -1);
  return `${common}*`;
}

const APPENDS = /\bappendToStream\s*\(|\bappendMany\s*\(|\bexpectedVersion\s*:/;

async function appendersByPrefix(): Promise<Map<string, Set<string>>> {
  const prefixes = new Map<string, string>();
  for (const { lib, name } of builders()) {
    const module = (await import(`#lib/${lib}`)) as Record<string, unknown>;
    prefixes.set(name, prefixOf(module[name]));
  }
  const reached = new Map([...appFiles].map(([app, files]) => [app, reach(files)]));
  const owners = new Map<string, Set<string>>();
  for (const [file, source] of text) {
    if (!APPENDS.test(source)) continue;
    const apps = [...reached].filter(([, files]) => files.has(file)).map(([app]) => app);
    for (const [name, prefix] of prefixes) {
      if (!new RegExp(`(?<![.\\w])${name}\\b`).test(source)) continue;
      const set = owners.get(prefix) ?? new Set<string>();
      for (const app of apps) set.add(`${app} (${relative(ROOT, file)})`);
      owners.set(prefix, set);
    }
  }
  return owners;
}

/** The table under "Aggregates and their owners" in docs/architecture.md: prefix → owner. */
function documentedOwners(): Record<string, string> {
  const page = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = page.split(/^## /m).find((s) => s.startsWith('Aggregates and their owners'));
  if (section === undefined) throw new Error('docs/architecture.md has no "Aggregates and their owners"');
  const table: Record<string, string> = {};
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || cells[1] === 'aggregate' || cells[1]!.startsWith('---')) continue;
    const owner = /`([\w-]+)`/.exec(cells[2]!)?.[1];
    for (const m of cells[1]!.matchAll(/`([\w*-]+)`/g)) table[m[1]!] = owner ?? cells[2]!;
  }
  return table;
}

describe('one owner per aggregate', () => {
  it('every stream prefix is appended to by exactly one app, the one the table names', async () => {
    const found = await appendersByPrefix();
    const byApp = Object.fromEntries(
      [...found].map(([prefix, who]) => [prefix, [...new Set([...who].map((w) => w.split(' ')[0]))].sort()]),
    );
    const expected = Object.fromEntries(Object.entries(OWNERS).map(([p, app]) => [p, [app]]));
    // On a failure, the files behind each app are in `found`.
    if (JSON.stringify(sorted(byApp)) !== JSON.stringify(sorted(expected)))
      console.error(Object.fromEntries([...found].map(([p, who]) => [p, [...who]])));
    expect(sorted(byApp)).toEqual(sorted(expected));
  });

  it('the scan follows appends made in library code to the app that imports it', async () => {
    const found = await appendersByPrefix();
    // The token service reaches the grant writers of libs/domain-token, consent does not.
    expect([...found.get('grant-*')!].some((w) => w.includes('libs/domain-token/src/'))).toBe(true);
    expect([...found.get('user-*')!].some((w) => w.startsWith('consent (apps/consent/src/'))).toBe(true);
  });

  it('docs/architecture.md names the same owners', () => {
    expect(sorted(documentedOwners())).toEqual(sorted(OWNERS));
  });
});

function sorted<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
