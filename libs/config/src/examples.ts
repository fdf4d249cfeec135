import { z } from 'zod';
import { absoluteUrl, type Env, int, ISSUER, readEnv, settings } from './env.js';

const withoutTrailingSlash = (s: string) => s.replace(/\/+$/, '');

/** The example resource server (apps/resource-server): a protected API for this issuer's tokens. */
const resourceServerSettings = settings({
  /** ISSUER: the authorization server whose tokens are accepted. */
  issuer: ISSUER,
  /** RESOURCE_SERVER_HOST, RESOURCE_SERVER_PORT: where it listens. Default 127.0.0.1, 8090. */
  host: ['RESOURCE_SERVER_HOST', z.string().default('127.0.0.1')],
  port: ['RESOURCE_SERVER_PORT', int(0, 65535).default(8090)],
  /**
   * RESOURCE_SERVER_AUDIENCE: the `aud` its access tokens must carry (RFC 9068 §4; clients list it
   * in their `audience`). Default http://127.0.0.1:8090.
   */
  audience: ['RESOURCE_SERVER_AUDIENCE', z.string().default('http://127.0.0.1:8090')],
  /**
   * RESOURCE_SERVER_CLIENT_ID, RESOURCE_SERVER_CLIENT_SECRET: its own credentials for RFC 7662
   * introspection on revocation-sensitive endpoints. The client_id defaults to the audience (the
   * authorization server lets a client introspect access tokens whose audience names it).
   */
  clientId: ['RESOURCE_SERVER_CLIENT_ID', z.string().optional()],
  clientSecret: ['RESOURCE_SERVER_CLIENT_SECRET', z.string().optional()],
}).transform((rs) => ({ ...rs, clientId: rs.clientId ?? rs.audience }));

export type ResourceServerConfig = z.output<typeof resourceServerSettings>;

export function loadResourceServerConfig(env: Env = process.env): ResourceServerConfig {
  return readEnv<ResourceServerConfig>([resourceServerSettings], env);
}

/** The example client (apps/example-client): the "Example App" of the authorization code flow. */
const exampleClientSettings = settings({
  /** ISSUER: the authorization server it signs users in with. */
  issuer: ISSUER,
  /** EXAMPLE_CLIENT_HOST, EXAMPLE_CLIENT_PORT: where it listens. Default 127.0.0.1, 8081. */
  host: ['EXAMPLE_CLIENT_HOST', z.string().default('127.0.0.1')],
  port: ['EXAMPLE_CLIENT_PORT', int(0, 65535).default(8081)],
  /** EXAMPLE_CLIENT_URL: its public origin; the redirect URI is `<url>/callback`. Default http://127.0.0.1:<port>. */
  url: ['EXAMPLE_CLIENT_URL', absoluteUrl.transform(withoutTrailingSlash).optional()],
  /** EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET: its registration (client_secret_basic). Default id `example-app`. */
  clientId: ['EXAMPLE_CLIENT_ID', z.string().default('example-app')],
  clientSecret: ['EXAMPLE_CLIENT_SECRET', z.string().optional()],
  /** EXAMPLE_CLIENT_SCOPE: the scope it asks for. Default `openid email profile offline_access`. */
  scope: ['EXAMPLE_CLIENT_SCOPE', z.string().default('openid email profile offline_access')],
  /** RESOURCE_SERVER_URL: the API it calls. Default http://127.0.0.1:8090. */
  resourceServerUrl: [
    'RESOURCE_SERVER_URL',
    absoluteUrl.transform(withoutTrailingSlash).default('http://127.0.0.1:8090'),
  ],
}).transform((client) => ({ ...client, url: client.url ?? `http://127.0.0.1:${client.port}` }));

export type ExampleClientConfig = z.output<typeof exampleClientSettings>;

export function loadExampleClientConfig(env: Env = process.env): ExampleClientConfig {
  return readEnv<ExampleClientConfig>([exampleClientSettings], env);
}
