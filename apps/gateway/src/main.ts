import 'reflect-metadata';
import { SUPPORTED_GRANT_TYPES } from '#lib/domain-client';
import { RPC_CLIENT, startEdgeApp } from '#lib/http-edge';
import type { FastifyRequest } from 'fastify';
import { GatewayModule } from './gateway.module.js';
import { installCookies } from './http/cookies.js';
import { installCors } from './http/cors.js';
import { installMethodNotAllowed } from './http/method-not-allowed.js';
import { installViews } from './http/views.js';

// Bounded label values: a grant type the server supports or `other`, never what the caller typed.
const GRANT_TYPES: ReadonlySet<string> = new Set(SUPPORTED_GRANT_TYPES);

await startEdgeApp({
  name: 'gateway',
  module: GatewayModule,
  listen: (config) => ({ host: config.httpHost, port: config.httpPort }),
  label: (request: FastifyRequest, route: string) => {
    if (route !== '/token' || typeof request.body !== 'string') return '';
    const g = new URLSearchParams(request.body).get('grant_type') ?? '';
    return GRANT_TYPES.has(g) ? g : 'other';
  },
  routes: ({ app, fastify }) => {
    installMethodNotAllowed(fastify);
    installCookies(fastify);
    installViews(fastify);
    installCors(fastify, app.get(RPC_CLIENT));
  },
});
