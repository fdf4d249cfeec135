import { invalidRequest, unsupportedGrantType } from '#lib/oauth-errors';
import type { GrantHandler } from './grant-handler.js';

/** RFC 6749 §5.2 unsupported_grant_type; OAuth 2.1 §10.1: implicit and password are never offered. */
export class GrantRegistry {
  private readonly handlers = new Map<string, GrantHandler>();

  constructor(handlers: Iterable<GrantHandler> = []) {
    for (const h of handlers) this.register(h);
  }

  register(handler: GrantHandler): void {
    if (handler.grantType === 'password' || handler.grantType === 'implicit') {
      throw new Error(`${handler.grantType} is not allowed (OAuth 2.1 §10.1)`);
    }
    if (this.handlers.has(handler.grantType)) throw new Error(`grant ${handler.grantType} registered twice`);
    this.handlers.set(handler.grantType, handler);
  }

  resolve(grantType: string | undefined): GrantHandler {
    // RFC 6749 §3.2: a parameter sent without a value is treated as omitted.
    if (grantType === undefined || grantType === '') throw invalidRequest('grant_type is required');
    const handler = this.handlers.get(grantType);
    if (!handler) throw unsupportedGrantType(`grant_type not supported: ${grantType}`);
    return handler;
  }

  get grantTypes(): string[] {
    return [...this.handlers.keys()];
  }
}
