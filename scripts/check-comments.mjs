#!/usr/bin/env node
// Comments cite the RFC or spec section a line enforces, or say the rule plainly; they do not name
// internal case ids (STYLE.md), which mean nothing to a reader outside the project.
//
//   node scripts/check-comments.mjs [--list] [--root DIR]
//
// Reads every non-test source file under apps/ and libs/ of DIR (default: this repository): .ts,
// .mts, .js and .mjs files, but not *.spec.ts, nor anything in a testing/ or test/ folder. Takes each
// comment with the TypeScript scanner (so a `//` inside a string or a regular expression is not a
// comment) and reports the ones that carry an internal id:
//   - a checklist or case id: two to six capital letters, a dash, two digits, perhaps after one more
//     capital (`TOK-07`, `CAUTH-20`, `PKCE-A09`);
//   - `decision <n>`, `issue <n>` (or `decisions`, `issues`);
//   - the word `checklist`.
// Prints `file:line: id  comment` for each and exits 1 when there is any; with --list prints them
// and exits 0. Ids stay allowed in test names and test files.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ID = /\b(?!UTF-)[A-Z]{2,6}-[A-Z]?\d{2}\b|\bdecisions? \d+|\bissues? #?\d+|\bchecklist\b/gi;
// The case-insensitive flag is for the words; a case id is capitals only.
const CASE_ID = /^[A-Z]{2,6}-[A-Z]?\d{2}$/;

const args = process.argv.slice(2);
const list = args.includes('--list');
const rootAt = args.indexOf('--root');
const root = resolve(rootAt >= 0 && args[rootAt + 1] ? args[rootAt + 1] : join(import.meta.dirname, '..'));

/** The non-test source files below `dir`. */
function sources(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return ['node_modules', 'dist', 'testing', 'test'].includes(entry.name) ? [] : sources(path);
    }
    if (!/\.(m?ts|m?js)$/.test(entry.name) || /\.d\.ts$/.test(entry.name)) return [];
    return /\.spec\.m?[tj]s$/.test(entry.name) ? [] : [path];
  });
}

/** Every comment of a file, with the line it starts on (1-based). */
function comments(path) {
  const text = readFileSync(path, 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found = new Map();
  const take = (ranges) => {
    for (const range of ranges ?? []) found.set(range.pos, text.slice(range.pos, range.end));
  };
  const visit = (node) => {
    take(ts.getLeadingCommentRanges(text, node.pos));
    take(ts.getTrailingCommentRanges(text, node.end));
    for (const child of node.getChildren(file)) visit(child);
  };
  visit(file);
  return [...found].map(([pos, body]) => ({ line: file.getLineAndCharacterOfPosition(pos).line + 1, body }));
}

const hits = [];
for (const path of [...sources(join(root, 'apps')), ...sources(join(root, 'libs'))].sort()) {
  for (const { line, body } of comments(path)) {
    body.split('\n').forEach((text, i) => {
      const ids = [...text.matchAll(ID)].map((m) => m[0]).filter((id) => !/-/.test(id) || CASE_ID.test(id));
      if (ids.length > 0) hits.push(`${relative(root, path)}:${line + i}: ${ids.join(', ')}  ${text.trim()}`);
    });
  }
}

for (const hit of hits) console.log(hit);
if (hits.length === 0) {
  console.log('check-comments: no internal ids in comments under apps/ and libs/');
} else {
  console.error(
    `check-comments: ${hits.length} comment line(s) name an internal id; cite the RFC/spec section instead`,
  );
  if (!list) process.exit(1);
}
