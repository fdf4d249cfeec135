import Fastify, { type FastifyInstance } from 'fastify';
import type { CookieToSet } from '#lib/contracts';
import { cookieName, installCookies, readCookie, setCookie } from './cookies.js';

async function edge(secure: boolean, cookies: CookieToSet[]) {
  const fastify = Fastify();
  installCookies(fastify);
  fastify.get('/', (request, reply) => {
    for (const c of cookies) setCookie(reply, c, secure);
    void reply.send({
      session: readCookie(request, 'session', secure) ?? null,
      nonce: readCookie(request, 'nonce', secure) ?? null,
    });
  });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  apps.push(fastify);
  const { port } = fastify.server.address() as { port: number };
  // light-my-request (inject) requires the ESM-only cookie@2, which jest cannot load: a real socket.
  return async (cookie?: string) => {
    const response = await fetch(`http://127.0.0.1:${port}/`, cookie ? { headers: { cookie } } : {});
    return {
      setCookie: response.headers.getSetCookie(),
      read: (await response.json()) as Record<string, string | null>,
    };
  };
}

const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

describe('browser cookies of the public listener, by @fastify/cookie (RFC 6265)', () => {
  it('UI-11: the session cookie is HttpOnly, SameSite=Lax, host-only; on https __Host- and Secure', async () => {
    const session = { name: 'session', value: 'kid.v-_', maxAgeSeconds: 60 } as const;
    const plain = await edge(false, [session, { name: 'nonce', value: 'n', maxAgeSeconds: 600 }]);
    expect((await plain()).setCookie).toEqual([
      'authz_session=kid.v-_; Max-Age=60; Path=/; HttpOnly; SameSite=Lax',
      'authz_nonce=n; Max-Age=600; Path=/; HttpOnly; SameSite=Lax',
    ]);
    const tls = await edge(true, [session]);
    expect((await tls()).setCookie).toEqual([
      '__Host-authz_session=kid.v-_; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Lax',
    ]);
    expect(cookieName('nonce', true)).toBe('__Host-authz_nonce');
  });

  it('UI-11: a deleted cookie is empty with Max-Age=0, under the same attributes', async () => {
    const app = await edge(true, [{ name: 'session', value: '', maxAgeSeconds: 0 }]);
    expect((await app()).setCookie).toEqual([
      '__Host-authz_session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax',
    ]);
  });

  it('reads the first value of a name, only under the prefix the listener uses; an empty value is none', async () => {
    const tls = await edge(true, []);
    const read = async (cookie: string) => (await tls(cookie)).read;
    expect(await read('__Host-authz_session=a; __Host-authz_session=b; __Host-authz_nonce=n')).toEqual({
      session: 'a',
      nonce: 'n',
    });
    // A cookie without the prefix may have been set by a sibling subdomain (RFC 6265bis §4.1.3.2).
    expect(await read('authz_session=a; authz_nonce=')).toEqual({ session: null, nonce: null });
    expect(await read('garbage;;=;__Host-authz_nonce=')).toEqual({ session: null, nonce: null });
    const plain = await edge(false, []);
    expect((await plain(' authz_session = s ')).read).toEqual({
      session: 's',
      nonce: null,
    });
  });
});
