import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { Subjects, type UserInfoRequest, type UserInfoResponse } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readForm, requestContext, RPC_CLIENT, sendJson } from '#lib/http-edge';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]{1,4096}=*$/;

/**
 * The UserInfo endpoint (OpenID Connect Core §5.3), answered by the introspection service.
 * - §5.3.1: GET and POST, the access token as a bearer token (RFC 6750 §2.1 header; §2.2 form body
 *   `access_token` on POST); never in the query (RFC 9700 §4.3.2: URLs leak); more than one method
 *   is invalid_request (RFC 6750 §2);
 * - RFC 6750 §3.1: no token is a bare `Bearer` challenge (no error code).
 */
@Controller('userinfo')
export class UserInfoHttpController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewaySettings,
  ) {}

  @Get()
  get(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.answer(request, reply, undefined);
  }

  @Post()
  post(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const hasBody = typeof request.body === 'string' && request.body.trim() !== '';
    const form = hasBody ? readForm(request, this.config.maxParameters) : {};
    return this.answer(request, reply, form.access_token);
  }

  private async answer(request: FastifyRequest, reply: FastifyReply, fromBody: string | undefined) {
    const accessToken = presentedToken(request, fromBody);
    const command: UserInfoRequest = { context: requestContext(request), accessToken };
    const claims = await this.rpc.request<UserInfoResponse>(Subjects.introspection.userinfo, command);
    sendJson(reply, 200, claims);
  }
}

function presentedToken(request: FastifyRequest, fromBody: string | undefined): string {
  if (new URL(request.url, 'http://x').searchParams.has('access_token')) {
    throw new OAuthError(
      'invalid_request',
      'access tokens are not accepted in the query string (RFC 6750 §2.1)',
    );
  }
  const header = request.headers.authorization;
  if (header !== undefined && fromBody !== undefined) {
    throw new OAuthError('invalid_request', 'send the access token in one place only (RFC 6750 §2)');
  }
  const fromHeader = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header.trim())?.[1] : undefined;
  const token = fromHeader ?? fromBody;
  if (token === undefined) {
    throw new OAuthError('invalid_token', 'a bearer access token is required', {
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  }
  if (!B64TOKEN.test(token)) {
    throw new OAuthError('invalid_token', 'the access token is malformed', {
      headers: {
        'WWW-Authenticate': 'Bearer error="invalid_token", error_description="the access token is malformed"',
      },
    });
  }
  return token;
}
