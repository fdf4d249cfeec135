import 'reflect-metadata';
import { installViews, startEdgeApp } from '#lib/http-edge';
import { ADMIN_VIEWS_DIR } from './admin-api/audit-page.js';
import { AdminModule } from './admin.module.js';
import { openApiDocument } from './openapi/document.js';
import { serveOpenApi } from './openapi/swagger-ui.js';

await startEdgeApp({
  name: 'admin',
  module: AdminModule,
  listen: (config) => ({ host: config.adminHttpHost, port: config.adminHttpPort }),
  routes: ({ app, fastify, config }) => {
    installViews(fastify, ADMIN_VIEWS_DIR);
    // The OpenAPI document (/openapi.json) and its Swagger UI (/admin/docs), docs/operations.md.
    serveOpenApi(fastify, openApiDocument(app, config.issuer), config.issuer);
  },
});
