import fastifyCookie from '@fastify/cookie';
import type { CookieToSet } from '#lib/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

type BrowserCookie = CookieToSet['name'];

/**
 * The public listener's cookies, parsed and serialised by @fastify/cookie. The values are opaque
 * (sealed or random, minted by the consent service); no cookie is signed here, the gateway holds
 * no key.
 */
export function installCookies(fastify: FastifyInstance): void {
  void fastify.register(fastifyCookie, { hook: 'onRequest' });
}

/** On https, a __Host- cookie: Secure, host-only and Path=/ by construction (RFC 6265bis §4.1.3.2). */
export function cookieName(name: BrowserCookie, secure: boolean): string {
  return `${secure ? '__Host-' : ''}authz_${name}`;
}

/** The first value the browser sent under this cookie's name (RFC 6265 §5.4 order), if any. */
export function readCookie(
  request: FastifyRequest,
  name: BrowserCookie,
  secure: boolean,
): string | undefined {
  const value = request.cookies[cookieName(name, secure)];
  return value === undefined || value === '' ? undefined : value;
}

/** RFC 6749 §10.12, RFC 6265 §4.1.2: HttpOnly, SameSite=Lax, host-only (no Domain), Secure on https. */
export function setCookie(reply: FastifyReply, cookie: CookieToSet, secure: boolean): void {
  void reply.setCookie(cookieName(cookie.name, secure), cookie.value, {
    path: '/',
    maxAge: cookie.maxAgeSeconds,
    httpOnly: true,
    sameSite: 'lax',
    secure,
  });
}
