import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sendOAuthError } from '#lib/http-edge';
import { notFound } from '#lib/oauth-errors';
import type { FastifyInstance } from 'fastify';

/** Where the OpenAPI document and its Swagger UI are served on the admin listener. */
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/admin/docs';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Authorization server API</title>
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(OPENAPI_PATH)}, dom_id: '#swagger-ui' });\n`;

/**
 * Swagger UI (swagger-ui-dist, served as files, no script inline) for the document at
 * OPENAPI_PATH. Both are public on the admin listener, which only the internal network reaches:
 * they show the API's shape, no data; every call the UI makes carries the bearer the operator
 * enters (Authorize) and is checked like any other.
 */
export function serveOpenApi(fastify: FastifyInstance, document: unknown, issuer: string): void {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets: Record<string, [string, string]> = {
    'swagger-ui.css': ['text/css', readFileSync(join(dist, 'swagger-ui.css'), 'utf8')],
    'swagger-ui-bundle.js': ['text/javascript', readFileSync(join(dist, 'swagger-ui-bundle.js'), 'utf8')],
    'init.js': ['text/javascript', INIT],
  };
  const json = JSON.stringify(document);
  fastify.get(OPENAPI_PATH, (_request, reply) => {
    void reply.header('Cache-Control', 'no-store').type('application/json').send(json);
  });
  // Swagger UI sets inline styles; scripts come from this listener only; "try it out" may call
  // the issuer's public endpoints.
  const csp =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    `connect-src 'self' ${new URL(issuer).origin}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  fastify.get(DOCS_PATH, (_request, reply) => {
    void reply.header('Content-Security-Policy', csp).type('text/html; charset=utf-8').send(PAGE);
  });
  fastify.get<{ Params: { asset: string } }>(`${DOCS_PATH}/:asset`, (request, reply) => {
    const asset = Object.hasOwn(assets, request.params.asset) ? assets[request.params.asset] : undefined;
    if (asset === undefined) return sendOAuthError(reply, notFound('no such asset'));
    void reply.header('Cache-Control', 'public, max-age=3600').type(asset[0]).send(asset[1]);
  });
}
