import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import { fileURLToPath } from 'node:url';

/** The page templates (apps/gateway/src/views, copied beside the build by scripts/copy-views.mjs). */
export const VIEWS_DIR = fileURLToPath(new URL('../views/', import.meta.url));

/**
 * The pages of the public listener, rendered by @fastify/view with Eta. Eta because it escapes
 * every `<%= %>` output by default (the five characters of HTML's attribute and text contexts,
 * RFC 6749 §10.14 / OAuth 2.1 §7.11 for every reflected value), layouts are supported by
 * @fastify/view, it has no runtime dependency and ships its own types; templates are read only from
 * VIEWS_DIR and compiled once (production), and no value is ever compiled as a template.
 */
export function installViews(fastify: FastifyInstance): void {
  void fastify.register(fastifyView, {
    engine: {
      eta: new Eta({ autoEscape: true, autoFilter: false, useWith: false, varName: 'it', cache: true }),
    },
    templates: VIEWS_DIR,
    production: true,
  });
}
