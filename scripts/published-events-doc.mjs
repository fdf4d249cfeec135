#!/usr/bin/env node
// Writes into docs/events.md, between `<!-- published-events:begin -->` and
// `<!-- published-events:end -->`, the table of what a stream consumer receives of each event type,
// generated from the contract (libs/contracts/src/published-events.ts, read from dist/).
//
//   npm run build && node scripts/published-events-doc.mjs           rewrite the table
//   node scripts/published-events-doc.mjs --check                    exit 1 when it is out of date
//
// The unit test libs/contracts/src/published-events.unit.spec.ts fails too when the page and the
// contract differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGE = join(ROOT, 'docs/events.md');
const { publishedEventsTable } = await import('../dist/libs/contracts/src/published-events.js');

const page = readFileSync(PAGE, 'utf8');
const BEGIN = '<!-- published-events:begin -->';
const END = '<!-- published-events:end -->';
const markers = /<!-- published-events:begin -->[\s\S]*?<!-- published-events:end -->/;
if (!markers.test(page)) {
  console.error('docs/events.md has no <!-- published-events:begin/end --> markers');
  process.exit(1);
}
const next = page.replace(markers, () => `${BEGIN}\n${publishedEventsTable()}\n${END}`);
if (process.argv.includes('--check')) {
  if (next !== page) {
    console.error(
      'docs/events.md is out of date: run npm run build && node scripts/published-events-doc.mjs',
    );
    process.exit(1);
  }
  console.log('docs/events.md: the published-events table is up to date');
} else if (next !== page) {
  writeFileSync(PAGE, next);
  console.log('docs/events.md: published-events table written');
} else {
  console.log('docs/events.md: the published-events table is up to date');
}
