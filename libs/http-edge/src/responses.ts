import { toWire } from '#lib/oauth-errors';
import type { FastifyReply } from 'fastify';

/** RFC 6749 §5.1 / §5.2: token and error responses are never cached. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): void {
  void noStore(reply).status(status).type('application/json').send(JSON.stringify(body));
}

export function sendOAuthError(reply: FastifyReply, err: unknown): void {
  const wire = toWire(err);
  for (const [name, value] of Object.entries(wire.headers ?? {})) reply.header(name, value);
  const body: Record<string, string> = { error: wire.error, error_description: wire.error_description };
  sendJson(reply, wire.status, body);
}
