import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { OAuthError } from '#lib/oauth-errors';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';

/** Admin API: a bearer token from configuration (RFC 6750 §2.1), compared in constant time. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewaySettings) {
    this.expected = createHash('sha256').update(config.adminToken).digest();
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]+)$/i.exec(header) : null;
    const presented = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    if (!match || !timingSafeEqual(presented, this.expected)) {
      // RFC 6750 §3.1
      throw new OAuthError('invalid_token', 'admin authentication required', {
        headers: { 'WWW-Authenticate': 'Bearer realm="admin", error="invalid_token"' },
      });
    }
    return true;
  }
}
