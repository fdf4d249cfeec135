import { checkIssuer, type Env, int, str } from './env.js';

/** The example resource server (apps/resource-server): a protected API for this issuer's tokens. */
export interface ResourceServerConfig {
  /** ISSUER: the authorization server whose tokens are accepted. */
  issuer: string;
  /** RESOURCE_SERVER_HOST, RESOURCE_SERVER_PORT: where it listens. Default 127.0.0.1, 8090. */
  host: string;
  port: number;
  /**
   * RESOURCE_SERVER_AUDIENCE: the `aud` its access tokens must carry (RFC 9068 §4; clients list it
   * in their `audience`). Default http://127.0.0.1:8090.
   */
  audience: string;
  /**
   * RESOURCE_SERVER_CLIENT_ID, RESOURCE_SERVER_CLIENT_SECRET: its own credentials for RFC 7662
   * introspection on revocation-sensitive endpoints. The client_id defaults to the audience (the
   * authorization server lets a client introspect access tokens whose audience names it).
   */
  clientId: string;
  clientSecret: string | undefined;
}

export function loadResourceServerConfig(env: Env = process.env): ResourceServerConfig {
  const audience = str(env, 'RESOURCE_SERVER_AUDIENCE', 'http://127.0.0.1:8090');
  return {
    issuer: checkIssuer(str(env, 'ISSUER', 'http://127.0.0.1:8080')),
    host: str(env, 'RESOURCE_SERVER_HOST', '127.0.0.1'),
    port: int(env, 'RESOURCE_SERVER_PORT', 8090, 0, 65535),
    audience,
    clientId: str(env, 'RESOURCE_SERVER_CLIENT_ID', audience),
    clientSecret: env.RESOURCE_SERVER_CLIENT_SECRET || undefined,
  };
}

/** The example client (apps/example-client): the "Example App" of the authorization code flow. */
export interface ExampleClientConfig {
  /** ISSUER: the authorization server it signs users in with. */
  issuer: string;
  /** EXAMPLE_CLIENT_HOST, EXAMPLE_CLIENT_PORT: where it listens. Default 127.0.0.1, 8081. */
  host: string;
  port: number;
  /** EXAMPLE_CLIENT_URL: its public origin; the redirect URI is `<url>/callback`. Default http://127.0.0.1:8081. */
  url: string;
  /** EXAMPLE_CLIENT_ID, EXAMPLE_CLIENT_SECRET: its registration (client_secret_basic). Default id `example-app`. */
  clientId: string;
  clientSecret: string | undefined;
  /** EXAMPLE_CLIENT_SCOPE: the scope it asks for. Default `openid email profile offline_access`. */
  scope: string;
  /** RESOURCE_SERVER_URL: the API it calls. Default http://127.0.0.1:8090. */
  resourceServerUrl: string;
}

export function loadExampleClientConfig(env: Env = process.env): ExampleClientConfig {
  const port = int(env, 'EXAMPLE_CLIENT_PORT', 8081, 0, 65535);
  return {
    issuer: checkIssuer(str(env, 'ISSUER', 'http://127.0.0.1:8080')),
    host: str(env, 'EXAMPLE_CLIENT_HOST', '127.0.0.1'),
    port,
    url: str(env, 'EXAMPLE_CLIENT_URL', `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    clientId: str(env, 'EXAMPLE_CLIENT_ID', 'example-app'),
    clientSecret: env.EXAMPLE_CLIENT_SECRET || undefined,
    scope: str(env, 'EXAMPLE_CLIENT_SCOPE', 'openid email profile offline_access'),
    resourceServerUrl: str(env, 'RESOURCE_SERVER_URL', 'http://127.0.0.1:8090').replace(/\/+$/, ''),
  };
}
