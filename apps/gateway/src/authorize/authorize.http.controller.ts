import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type BrowserState, type FrontChannelResult, Subjects } from '#lib/contracts';
import { OAuthError, toWire } from '#lib/oauth-errors';
import { parseFormEncoded, singleValued } from '#lib/oauth-protocol';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';
import { requestContext, RPC_CLIENT } from '#lib/http-edge';
import { pageBrand, type PageBrand, pageCsp, type PageResult, pageView } from './pages.js';
import { readCookie, setCookie } from '../http/cookies.js';

const FORM = /^application\/x-www-form-urlencoded\s*(;.*)?$/i;

/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1.1; GET and, as §3.1 allows, POST with the same
 * results), the login and consent forms and the account page. The consent service decides; this
 * controller maps HTTP (query, form, cookies) to it and renders what it answers.
 */
@ApiExcludeController()
@Controller()
export class AuthorizeHttpController {
  private readonly secure: boolean;
  private readonly brand: PageBrand;

  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewaySettings,
  ) {
    this.secure = config.issuer.startsWith('https:');
    this.brand = pageBrand(config);
  }

  @Get('authorize')
  async authorizeGet(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const url = request.url;
    const q = url.indexOf('?');
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.authorize, {
        context: requestContext(request),
        parameters: [
          ...parseFormEncoded(q === -1 ? '' : url.slice(q + 1), { maxParameters: this.config.maxParameters }),
        ],
        browser: this.browser(request),
      }),
    );
  }

  @Post('authorize')
  async authorizePost(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () => {
      this.requireForm(request);
      return this.rpc.request<FrontChannelResult>(Subjects.consent.authorize, {
        context: requestContext(request),
        parameters: [...parseFormEncoded(this.body(request), { maxParameters: this.config.maxParameters })],
        browser: this.browser(request),
      });
    });
  }

  @Get('authorize/resume')
  async resume(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () => {
      const q = request.url.indexOf('?');
      const query = singleValued(
        parseFormEncoded(q === -1 ? '' : request.url.slice(q + 1), {
          maxParameters: this.config.maxParameters,
        }),
      );
      return this.rpc.request<FrontChannelResult>(Subjects.consent.resume, {
        context: requestContext(request),
        browser: this.browser(request),
        tx: query.tx ?? '',
      });
    });
  }

  @Post('login')
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.login, {
        context: requestContext(request),
        browser: this.browser(request),
        form: this.form(request),
      }),
    );
  }

  @Post('authorize/consent')
  async consent(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.decide, {
        context: requestContext(request),
        browser: this.browser(request),
        form: this.form(request),
      }),
    );
  }

  @Get('account')
  async account(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.account, {
        context: requestContext(request),
        browser: this.browser(request),
      }),
    );
  }

  @Post('account/revoke')
  async accountRevoke(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.accountRevoke, {
        context: requestContext(request),
        browser: this.browser(request),
        form: this.form(request),
      }),
    );
  }

  @Post('account/sessions/end')
  async accountEndSession(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.accountEndSession, {
        context: requestContext(request),
        browser: this.browser(request),
        form: this.form(request),
      }),
    );
  }

  /** OpenID Connect RP-Initiated Logout 1.0 §2: the end-session endpoint, GET (query) or POST (form). */
  @Get('logout')
  async logoutGet(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () => {
      const q = request.url.indexOf('?');
      const parameters = singleValued(
        parseFormEncoded(q === -1 ? '' : request.url.slice(q + 1), {
          maxParameters: this.config.maxParameters,
        }),
      );
      return this.rpc.request<FrontChannelResult>(Subjects.consent.logout, {
        context: requestContext(request),
        browser: this.browser(request),
        parameters,
      });
    });
  }

  @Post('logout')
  async logoutPost(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.logout, {
        context: requestContext(request),
        browser: this.browser(request),
        parameters: this.form(request),
      }),
    );
  }

  @Post('logout/confirm')
  async logoutConfirm(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.run(reply, () =>
      this.rpc.request<FrontChannelResult>(Subjects.consent.logoutConfirm, {
        context: requestContext(request),
        browser: this.browser(request),
        parameters: this.form(request),
      }),
    );
  }

  // ------------------------------------------------------------ mapping

  private async run(reply: FastifyReply, call: () => Promise<FrontChannelResult>): Promise<void> {
    let result: FrontChannelResult;
    try {
      result = await call();
    } catch (err) {
      // Never a JSON error or a stack trace on a browser page; 503 keeps its Retry-After.
      const wire = toWire(err);
      for (const [name, value] of Object.entries(wire.headers ?? {})) reply.header(name, value);
      result = {
        kind: 'error-page',
        status: wire.status,
        error: wire.error,
        description: wire.error_description,
      };
    }
    await this.send(reply, result);
  }

  private async send(reply: FastifyReply, result: FrontChannelResult): Promise<void> {
    // OAuth 2.1 §3.2.3 by analogy: nothing here is cached.
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    for (const c of result.cookies ?? []) setCookie(reply, c, this.secure);
    switch (result.kind) {
      case 'redirect':
        // RFC 9700 §4.12, OAuth 2.1 §7.5.3: 303, so that no form body follows the redirect.
        void reply.status(303).header('Location', result.location).send();
        return;
      case 'login':
        if (result.retryAfterSeconds !== undefined)
          reply.header('Retry-After', String(result.retryAfterSeconds));
        return this.html(reply, result.status, result, result.redirectOrigin ? [result.redirectOrigin] : []);
      case 'consent':
        return this.html(reply, 200, result, [result.redirectOrigin]);
      case 'logout-confirm':
        return this.html(reply, 200, result, result.redirectOrigin ? [result.redirectOrigin] : []);
      case 'error-page':
        return this.html(reply, result.status, result);
      default:
        return this.html(reply, 200, result);
    }
  }

  private async html(
    reply: FastifyReply,
    status: number,
    result: PageResult,
    formTargets: string[] = [],
  ): Promise<void> {
    const { template, data } = pageView(result, this.brand);
    const body = await reply.viewAsync(template, data);
    void reply
      .status(status)
      .header('Content-Security-Policy', pageCsp(this.brand, formTargets))
      .header('X-Frame-Options', 'DENY')
      .type('text/html; charset=utf-8')
      .send(body);
  }

  private browser(request: FastifyRequest): BrowserState {
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    const agent = request.headers['user-agent'];
    const session = readCookie(request, 'session', this.secure);
    const nonce = readCookie(request, 'nonce', this.secure);
    return {
      ...(session ? { session } : {}),
      ...(nonce ? { nonce } : {}),
      ...(typeof origin === 'string' ? { origin } : {}),
      ...(typeof site === 'string' ? { secFetchSite: site } : {}),
      ...(typeof agent === 'string' ? { userAgent: agent.slice(0, 512) } : {}),
    };
  }

  private requireForm(request: FastifyRequest): void {
    const contentType = request.headers['content-type'];
    if (typeof contentType !== 'string' || !FORM.test(contentType.trim()))
      throw new OAuthError('invalid_request', 'the form must be application/x-www-form-urlencoded');
  }

  private body(request: FastifyRequest): string {
    return typeof request.body === 'string' ? request.body : '';
  }

  private form(request: FastifyRequest): Record<string, string> {
    this.requireForm(request);
    return singleValued(parseFormEncoded(this.body(request), { maxParameters: this.config.maxParameters }));
  }
}
