import { type CorsOriginsResponse, Subjects } from '#lib/contracts';
import type { RpcClient } from '#lib/service-runtime';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS at the token, revocation and metadata endpoints (RFC 9700
 * §2.6 and OAuth 2.1 §3.2 allow it, never at the authorization endpoint): only the origins of active
 * public clients' redirect URIs, asked of the client registry and kept for `ttlMs`. When the
 * registry cannot answer, no origin is allowed.
 */
export const CORS_ENDPOINTS: Readonly<Record<string, string>> = {
  '/token': 'POST',
  '/revoke': 'POST',
  '/.well-known/oauth-authorization-server': 'GET, HEAD',
  '/.well-known/openid-configuration': 'GET, HEAD',
};

export class CorsPolicy {
  private origins: Set<string> | null = null;
  private fetchedAt = 0;
  private pending: Promise<Set<string>> | null = null;

  constructor(
    private readonly rpc: RpcClient,
    private readonly ttlMs: number,
  ) {}

  async allows(origin: string | string[] | undefined): Promise<boolean> {
    if (typeof origin !== 'string' || origin === 'null' || origin.length > 300) return false;
    return (await this.current()).has(origin);
  }

  private async current(): Promise<Set<string>> {
    if (this.origins !== null && Date.now() - this.fetchedAt < this.ttlMs) return this.origins;
    this.pending ??= this.rpc
      .request<CorsOriginsResponse>(Subjects.client.corsOrigins, {})
      .then((r) => {
        this.origins = new Set(r.origins);
        this.fetchedAt = Date.now();
        return this.origins;
      })
      .catch(() => new Set<string>())
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}

/**
 * CORS at the CORS endpoints only, for the origins of public clients' redirect URIs (OAuth 2.1
 * §3.2), by @fastify/cors; which origins is ours to decide (CorsPolicy). A refused origin gets no
 * CORS header and its preflight the endpoint's plain 204.
 */
export function installCors(fastify: FastifyInstance, rpc: RpcClient): void {
  const policy = new CorsPolicy(rpc, 10_000);
  void fastify.register(cors, {
    hook: 'onRequest',
    strictPreflight: false,
    delegator: (request, callback) => {
      const methods = CORS_ENDPOINTS[request.routeOptions.url ?? ''];
      const origin = request.headers.origin;
      if (methods === undefined) return callback(null, { origin: false });
      policy.allows(origin).then(
        (allowed) =>
          callback(null, {
            origin: allowed ? origin! : false,
            methods,
            allowedHeaders: 'Authorization, Content-Type',
            exposedHeaders: 'WWW-Authenticate, Retry-After',
            maxAge: 600,
          }),
        () => callback(null, { origin: false }),
      );
    },
  });
  for (const [url, methods] of Object.entries(CORS_ENDPOINTS)) {
    fastify.route({
      method: 'OPTIONS',
      url,
      handler: async (_request, reply) => {
        void reply.header('Allow', `${methods}, OPTIONS`).status(204).send();
      },
    });
  }
}
