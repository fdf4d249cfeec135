import { sendOAuthError } from '#lib/http-edge';
import { OAuthError } from '#lib/oauth-errors';
import type { FastifyInstance } from 'fastify';

/** RFC 9110 §15.5.6: a method an endpoint does not take gets 405 with Allow. */
export function installMethodNotAllowed(fastify: FastifyInstance): void {
  const methodsOf: Record<string, string[]> = {
    '/token': ['POST'],
    '/introspect': ['POST'],
    '/revoke': ['POST'],
    '/.well-known/oauth-authorization-server': ['GET', 'HEAD'],
    '/.well-known/openid-configuration': ['GET', 'HEAD'],
    '/jwks': ['GET', 'HEAD'],
    // OpenID Connect Core §5.3.1: GET and POST.
    '/userinfo': ['GET', 'HEAD', 'POST'],
    // RFC 6749 §3.1: GET, and POST with the same results; RFC 6749 §10.12: state changes only by POST.
    '/authorize': ['GET', 'HEAD', 'POST'],
    '/authorize/resume': ['GET', 'HEAD'],
    '/authorize/consent': ['POST'],
    '/login': ['POST'],
    '/account': ['GET', 'HEAD'],
    '/account/revoke': ['POST'],
    '/account/sessions/end': ['POST'],
    '/logout': ['GET', 'HEAD', 'POST'],
    '/logout/confirm': ['POST'],
  };
  for (const [url, allowed] of Object.entries(methodsOf)) {
    fastify.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !allowed.includes(m)),
      url,
      handler: (_request, reply) => {
        reply.header('Allow', allowed.join(', '));
        sendOAuthError(
          reply,
          new OAuthError('method_not_allowed', `use ${allowed.join(' or ')}`, { status: 405 }),
        );
      },
    });
  }
}
