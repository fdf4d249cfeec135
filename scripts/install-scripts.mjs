#!/usr/bin/env node
// `npm run check:install-scripts` (part of `npm run lint`, so of CI): no dependency's install
// script runs unreviewed, and none runs in the production image.
//
// 1. Lists every package of the production dependency tree (package-lock.json entries not marked
//    `dev`) that has an install script: the lock's `hasInstallScript`, or a preinstall, install or
//    postinstall script in its node_modules/<path>/package.json, or a binding.gyp (npm then runs
//    `node-gyp rebuild`). Development packages are listed too, for the record, but do not fail.
// 2. Fails on one that package.json `allowScripts` does not name: the field npm (>= 11) reads to
//    decide which dependencies may run their scripts (`npm install-scripts approve|deny <pkg>`
//    writes it); `true` approves, `false` denies, a key is `name` or `name@version`.
// 3. Fails unless every `npm ci` / `npm install` of the Dockerfile passes --ignore-scripts: the
//    base image's npm may predate allowScripts and would run every script. A production package
//    approved to run its script must then be rebuilt by name in the Dockerfile (`npm rebuild
//    <name>`), so that what runs in the image is written where it runs.
//
// Usage: node scripts/install-scripts.mjs [--json]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const LIFECYCLE = ['preinstall', 'install', 'postinstall'];

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The install scripts of one installed package, from its package.json (null: not installed here). */
function installedScripts(dir) {
  const manifest = join(ROOT, dir, 'package.json');
  if (!existsSync(manifest)) return null;
  const pkg = readJson(manifest);
  const scripts = {};
  for (const name of LIFECYCLE)
    if (typeof pkg.scripts?.[name] === 'string') scripts[name] = pkg.scripts[name];
  // npm's default for a package with a binding.gyp and no install or preinstall script.
  if (!scripts.install && !scripts.preinstall && existsSync(join(ROOT, dir, 'binding.gyp')))
    scripts.install = 'node-gyp rebuild';
  return scripts;
}

/** The package name of a lock key (`node_modules/a/node_modules/@s/b` → `@s/b`). */
function nameOf(key, entry) {
  if (entry.name) return entry.name;
  const at = key.lastIndexOf('node_modules/');
  return key.slice(at + 'node_modules/'.length);
}

/** The review of `name@version` in allowScripts: true, false, or undefined (not reviewed). */
function reviewOf(allow, name, version) {
  if (Object.hasOwn(allow, `${name}@${version}`)) return allow[`${name}@${version}`];
  if (Object.hasOwn(allow, name)) return allow[name];
  return undefined;
}

export function listInstallScripts() {
  const lock = readJson(join(ROOT, 'package-lock.json'));
  const pkg = readJson(join(ROOT, 'package.json'));
  const allow = pkg.allowScripts ?? {};
  const found = [];
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === '' || !key.includes('node_modules/') || entry.link) continue;
    const installed = installedScripts(key);
    const scripts = installed ?? {};
    const has = entry.hasInstallScript === true || Object.keys(scripts).length > 0;
    if (!has) continue;
    const name = nameOf(key, entry);
    found.push({
      name,
      version: entry.version,
      path: key,
      production: entry.dev !== true,
      scripts: installed === null ? { unknown: '(not installed on this platform)' } : scripts,
      review: reviewOf(allow, name, entry.version),
    });
  }
  return found;
}

/** The Dockerfile's problems: installs without --ignore-scripts, approved scripts never rebuilt. */
export function dockerfileProblems(found, dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')) {
  const problems = [];
  const commands = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^\s*RUN\b/.test(line));
  for (const command of commands) {
    for (const install of command.split(/&&|;/)) {
      if (/\bnpm\s+(ci|install|i)\b/.test(install) && !/--ignore-scripts\b/.test(install))
        problems.push(`Dockerfile: \`${install.trim()}\` runs install scripts: add --ignore-scripts`);
    }
  }
  for (const p of found.filter((f) => f.production && f.review === true)) {
    const rebuilt = commands.some((c) => new RegExp(`\\bnpm\\s+rebuild\\b[^&;]*\\s${p.name}(\\s|$)`).test(c));
    if (!rebuilt)
      problems.push(
        `Dockerfile: ${p.name} is approved to run its install script, but the image installs with ` +
          `--ignore-scripts and never runs \`npm rebuild ${p.name}\``,
      );
  }
  return problems;
}

function main() {
  const found = listInstallScripts();
  const problems = [];
  for (const p of found.filter((f) => f.production && f.review === undefined)) {
    problems.push(
      `${p.name}@${p.version} (${p.path}) has an install script no one reviewed: ` +
        `${JSON.stringify(p.scripts)}. Read it, then \`npm install-scripts deny ${p.name}\` ` +
        `(or approve, and rebuild it by name in the Dockerfile)`,
    );
  }
  problems.push(...dockerfileProblems(found));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ installScripts: found, problems }, null, 2));
  } else {
    const label = (r) => (r === true ? 'approved' : r === false ? 'denied' : 'NOT REVIEWED');
    console.log('install scripts in the dependency tree (package.json allowScripts):');
    for (const p of found) {
      const scripts = Object.entries(p.scripts)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ');
      console.log(
        `  ${p.production ? 'production ' : 'development'}  ${label(p.review).padEnd(12)} ${p.name}@${p.version}  (${scripts})`,
      );
    }
    if (found.length === 0) console.log('  none');
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`install-scripts: ${p}`);
    process.exit(1);
  }
  console.log('install-scripts: ok (every production install script reviewed; the image runs none)');
}

if (import.meta.url === `file://${process.argv[1]}`) main();
