import 'reflect-metadata';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { startEdgeApp } from '#lib/http-edge';
import { AdminModule } from './admin.module.js';

await startEdgeApp({
  name: 'admin',
  module: AdminModule,
  listen: (config) => ({ host: config.adminHttpHost, port: config.adminHttpPort }),
  routes: ({ app, fastify }) => {
    // The admin API, described with OpenAPI (decorators on the controllers).
    const openApi = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Authorization server: admin API')
        .setDescription(
          'Bearer: an access token of this issuer with audience ADMIN_AUDIENCE and scope `admin`, from a client ' +
            'an administrator granted `admin` (client credentials grant), or the bootstrap ADMIN_TOKEN when set. ' +
            'Served on the admin listener only.',
        )
        .addBearerAuth()
        .build(),
    );
    fastify.get('/openapi.json', (_request, reply) => {
      void reply.header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(openApi));
    });
  },
});
