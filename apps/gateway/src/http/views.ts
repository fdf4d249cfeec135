import { installViews as install } from '#lib/http-edge';
import type { FastifyInstance } from 'fastify';
import { fileURLToPath } from 'node:url';

/** The page templates (apps/gateway/src/views, copied beside the build by scripts/copy-views.mjs). */
export const VIEWS_DIR = fileURLToPath(new URL('../views/', import.meta.url));

/** The login, consent, account, logout and error pages of the public listener. */
export function installViews(fastify: FastifyInstance): void {
  install(fastify, VIEWS_DIR);
}
