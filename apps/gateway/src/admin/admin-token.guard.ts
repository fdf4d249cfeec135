import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { type ClientView, Subjects, type TokenStatusResponse } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import { AccessTokenInvalid, SIGNING_ALGS, verifyAccessToken } from '#lib/signing-keys';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';
import { RPC_CLIENT } from '../rpc.provider.js';

/** Scope an access token needs for the admin API. */
export const ADMIN_SCOPE = 'admin';

export type AdminRequest = FastifyRequest & { adminActor?: string };

/**
 * Admin API authentication, a bearer token (RFC 6750 §2.1) of one of two kinds:
 * - an access token of this issuer (RFC 9068, verified against the JWKS) whose scope holds
 *   `admin`, from a client that is still active: the actor is `client:<client_id>`;
 * - ADMIN_TOKEN, the bootstrap credential, compared in constant time: the actor is `admin`.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;
  private keys: JWTVerifyGetKey | null = null;
  private kids = new Set<string>();
  private loadedAt = 0;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewaySettings,
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
  ) {
    this.expected = createHash('sha256').update(config.adminToken).digest();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]+)$/i.exec(header) : null;
    const token = match?.[1] ?? '';
    const presented = createHash('sha256').update(token).digest();
    if (match && timingSafeEqual(presented, this.expected)) {
      request.adminActor = 'admin';
      return true;
    }
    if (match && token.split('.').length === 3) {
      const clientId = await this.adminClient(token, String(request.id));
      request.adminActor = `client:${clientId}`;
      return true;
    }
    throw invalidToken('admin authentication required');
  }

  /** The client_id of a valid admin access token, or invalid_token / insufficient_scope. */
  private async adminClient(token: string, correlationId: string): Promise<string> {
    let claims;
    try {
      claims = await verifyAccessToken(token, {
        issuer: this.config.issuer,
        keys: await this.keySet(token, correlationId),
        algorithms: SIGNING_ALGS,
        clockToleranceSeconds: 0,
      });
    } catch (err) {
      if (err instanceof AccessTokenInvalid) throw invalidToken('the access token is not valid');
      throw err;
    }
    // RFC 6750 §3.1: a valid token without the scope is insufficient_scope (403).
    if (!(claims.scope ?? '').split(' ').includes(ADMIN_SCOPE)) {
      throw new OAuthError('insufficient_scope', `the admin API needs scope ${ADMIN_SCOPE}`, {
        headers: {
          'WWW-Authenticate': `Bearer realm="admin", error="insufficient_scope", scope="${ADMIN_SCOPE}"`,
        },
      });
    }
    // A disabled or deleted client's tokens no longer count.
    let client: ClientView;
    try {
      client = await this.rpc.request<ClientView>(
        Subjects.client.get,
        { clientId: claims.client_id },
        correlationId,
      );
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'not_found')
        throw invalidToken('the access token is not valid');
      throw err;
    }
    if (client.status !== 'active') throw invalidToken('the access token is not valid');
    // RFC 7009 §2: a revoked admin token stops working at once (checklist decision 10 denylist).
    const { status } = await this.rpc.request<TokenStatusResponse>(
      Subjects.introspection.tokenStatus,
      { jti: claims.jti },
      correlationId,
    );
    if (status !== 'active') throw invalidToken('the access token is not valid');
    return claims.client_id;
  }

  /** The JWKS from the token service, reloaded when a token names a kid not seen yet. */
  private async keySet(token: string, correlationId: string): Promise<JWTVerifyGetKey> {
    let kid: string | undefined;
    try {
      const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as {
        kid?: unknown;
      };
      kid = typeof header.kid === 'string' ? header.kid : undefined;
    } catch {
      throw invalidToken('the access token is not valid');
    }
    const stale = Date.now() - this.loadedAt > 60_000;
    if (
      this.keys === null ||
      stale ||
      (kid !== undefined && !this.kids.has(kid) && Date.now() - this.loadedAt > 1000)
    ) {
      const jwks = await this.rpc.request<JSONWebKeySet>(Subjects.token.jwks, {}, correlationId);
      this.keys = createLocalJWKSet(jwks);
      this.kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
      this.loadedAt = Date.now();
    }
    return this.keys;
  }
}

function invalidToken(description: string): OAuthError {
  // RFC 6750 §3.1
  return new OAuthError('invalid_token', description, {
    headers: { 'WWW-Authenticate': 'Bearer realm="admin", error="invalid_token"' },
  });
}
