import type { AdminCommand } from '#lib/contracts';
import { requestContext } from '#lib/http-edge';
import { OAuthError } from '#lib/oauth-errors';
import type { FastifyRequest } from 'fastify';

/**
 * The administrator's credential as presented (RFC 6750 §2.1, a bearer token in the Authorization
 * header), carried with the command to the service that owns it, which verifies it itself. This
 * listener decides nothing about it.
 */
export function adminCommand(request: FastifyRequest): AdminCommand {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,8192})$/i.exec(header) : null;
  if (!match) {
    // RFC 6750 §3.1
    throw new OAuthError('invalid_token', 'admin authentication required', {
      headers: { 'WWW-Authenticate': 'Bearer realm="admin", error="invalid_token"' },
    });
  }
  return { context: requestContext(request), credential: match[1]! };
}
