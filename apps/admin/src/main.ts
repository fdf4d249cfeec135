import 'reflect-metadata';
import { startEdgeApp } from '#lib/http-edge';
import { AdminModule } from './admin.module.js';
import { openApiDocument } from './openapi/document.js';
import { serveOpenApi } from './openapi/swagger-ui.js';

await startEdgeApp({
  name: 'admin',
  module: AdminModule,
  listen: (config) => ({ host: config.adminHttpHost, port: config.adminHttpPort }),
  routes: ({ app, fastify, config }) => {
    // The OpenAPI document (/openapi.json) and its Swagger UI (/admin/docs), docs/operations.md.
    serveOpenApi(fastify, openApiDocument(app, config.issuer), config.issuer);
  },
});
