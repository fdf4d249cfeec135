import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ADMIN_SCHEMAS } from './schemas.js';
import { PUBLIC_SCHEMAS, publicPaths } from './public-paths.js';

/**
 * The OpenAPI 3 document of the admin plane: the admin API from the controllers' decorators, its
 * named schemas, and the public listener's machine endpoints (public-paths.ts) at the issuer.
 */
export function openApiDocument(app: INestApplication, issuer: string): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Authorization server')
      .setDescription(
        'The admin API (this listener) and the public endpoints of the issuer (their own server). ' +
          'Admin bearer: an access token of this issuer with audience ADMIN_AUDIENCE and scope `admin`, ' +
          'from a client an administrator granted `admin` (client credentials grant), or the bootstrap ' +
          'ADMIN_TOKEN when set. Errors are RFC 6749 §5.2 objects.',
      )
      .addBearerAuth()
      .build(),
  );
  return {
    ...document,
    paths: { ...document.paths, ...(publicPaths(issuer) as OpenAPIObject['paths']) },
    components: {
      ...document.components,
      schemas: { ...ADMIN_SCHEMAS, ...PUBLIC_SCHEMAS },
    },
  };
}
