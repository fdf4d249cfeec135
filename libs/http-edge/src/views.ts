import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';

/**
 * A listener's HTML pages, rendered by @fastify/view with Eta from the templates in `dir`. Eta
 * because it escapes every `<%= %>` output by default (`& < > " '`: RFC 6749 §10.14 and OAuth 2.1
 * §7.11 for every reflected value), @fastify/view supports its layouts, and it has no runtime
 * dependency and ships its own types. Templates are read only from `dir` and compiled once; no value
 * is ever compiled as a template. `<%~ %>` (raw) is for an inline style (the CSP allows it by its
 * hash where the page has one) and for what another template rendered (a layout's body, an
 * `include`), never for a value.
 */
export function installViews(fastify: FastifyInstance, dir: string): void {
  void fastify.register(fastifyView, {
    engine: {
      eta: new Eta({ autoEscape: true, autoFilter: false, useWith: false, varName: 'it', cache: true }),
    },
    templates: dir,
    production: true,
  });
}
