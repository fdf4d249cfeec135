import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { ExampleClientConfig } from '#lib/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Choreography, type Session } from './choreography.js';
import { pageView } from './page.js';
import { signedOut, signOut } from './sign-out.js';

export const EXAMPLE_CONFIG = Symbol('EXAMPLE_CONFIG');
const COOKIE = 'example_session';
const MAX_SESSIONS = 1000;

/**
 * The Example App's pages. Sessions live in memory (a demo); the session cookie is HttpOnly and
 * SameSite=Lax, so other sites cannot drive the POST buttons with it.
 */
@Controller()
export class ExampleClientHttpController {
  private readonly sessions = new Map<string, Session>();
  private readonly flow: Choreography;

  constructor(@Inject(EXAMPLE_CONFIG) private readonly config: ExampleClientConfig) {
    this.flow = new Choreography(config);
  }

  private session(request: FastifyRequest, reply: FastifyReply): Session {
    const id = /(?:^|;\s*)example_session=([A-Za-z0-9_-]{43})/.exec(request.headers.cookie ?? '')?.[1];
    const existing = id ? this.sessions.get(id) : undefined;
    if (existing) return existing;
    const fresh: Session = { id: randomBytes(32).toString('base64url'), steps: [] };
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(fresh.id, fresh);
    reply.header('set-cookie', `${COOKIE}=${fresh.id}; Path=/; HttpOnly; SameSite=Lax`);
    return fresh;
  }

  @Get()
  async home(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const { template, data } = pageView(this.session(request, reply), {
      issuer: this.config.issuer,
      resourceServer: this.config.resourceServerUrl,
      clientId: this.config.clientId,
    });
    const body = await reply.viewAsync(template, data);
    void reply.header('content-type', 'text/html; charset=utf-8').send(body);
  }

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('login')
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const session = this.session(request, reply);
    try {
      void reply.redirect(await this.flow.signIn(session), 303);
    } catch (err) {
      session.steps.push({
        title: 'Sign in: the authorization server cannot be reached',
        explain: 'RFC 8414 discovery failed.',
        exchanges: [],
        outcome: err instanceof Error ? err.message : String(err),
        ok: false,
      });
      void reply.redirect('/', 303);
    }
  }

  @Get('callback')
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const session = this.session(request, reply);
    await this.flow.callback(session, new URL(request.url, this.config.url));
    void reply.redirect('/', 303);
  }

  @Post('call')
  async call(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.flow.callResourceServer(this.session(request, reply));
    void reply.redirect('/', 303);
  }

  @Post('refresh')
  async refresh(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.flow.refresh(this.session(request, reply));
    void reply.redirect('/', 303);
  }

  @Post('revoke/:which')
  async revoke(@Param('which') which: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.flow.revoke(
      this.session(request, reply),
      which === 'refresh' ? 'refresh_token' : 'access_token',
    );
    void reply.redirect('/', 303);
  }

  @Post('sign-out')
  async signOut(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    void reply.redirect(await signOut(this.flow, this.config, this.session(request, reply)), 303);
  }

  @Get('signed-out')
  signedOut(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    signedOut(this.flow, this.session(request, reply), new URL(request.url, this.config.url));
    void reply.redirect('/', 303);
  }

  @Post('client-credentials')
  async clientCredentials(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.flow.clientCredentials(this.session(request, reply));
    void reply.redirect('/', 303);
  }

  @Post('reset')
  reset(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const session = this.session(request, reply);
    this.sessions.delete(session.id);
    void reply
      .header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`)
      .redirect('/', 303);
  }
}
