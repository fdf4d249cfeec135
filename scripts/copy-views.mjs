// Copies the page templates (apps/*/src/views) beside the compiled apps in dist/: tsc emits only
// JavaScript, and @fastify/view reads the templates from the directory next to the code.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

for (const app of readdirSync('apps')) {
  const views = join('apps', app, 'src', 'views');
  if (existsSync(views)) cpSync(views, join('dist', views), { recursive: true });
}
