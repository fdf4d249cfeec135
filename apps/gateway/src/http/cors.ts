import { type CorsOriginsResponse, Subjects } from '#lib/contracts';
import type { RpcClient } from '#lib/service-runtime';
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

/** CORS at the CORS endpoints only, for the origins of public clients' redirect URIs (OAuth 2.1 §3.2). */
export function installCors(fastify: FastifyInstance, rpc: RpcClient): void {
  const cors = new CorsPolicy(rpc, 10_000);
  for (const [url, methods] of Object.entries(CORS_ENDPOINTS)) {
    fastify.route({
      method: 'OPTIONS',
      url,
      handler: async (request, reply) => {
        if (await cors.allows(request.headers.origin)) {
          reply
            .header('Access-Control-Allow-Origin', request.headers.origin as string)
            .header('Access-Control-Allow-Methods', methods)
            .header('Access-Control-Allow-Headers', 'Authorization, Content-Type')
            .header('Access-Control-Max-Age', '600');
        }
        void reply.header('Vary', 'Origin').header('Allow', `${methods}, OPTIONS`).status(204).send();
      },
    });
  }
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!(request.routePattern in CORS_ENDPOINTS) || request.method === 'OPTIONS') return done(null, payload);
    reply.header('Vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined) return done(null, payload);
    void cors.allows(origin).then(
      (allowed) => {
        if (allowed) {
          reply
            .header('Access-Control-Allow-Origin', origin)
            .header('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After');
        }
        done(null, payload);
      },
      () => done(null, payload),
    );
  });
}
