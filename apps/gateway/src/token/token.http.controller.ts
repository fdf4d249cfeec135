import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { Subjects, type TokenGrantRequest, type TokenResponse } from '#lib/contracts';
import {
  CLIENT_AUTHENTICATION_PARAMETERS,
  parseClientAuthentication,
  repeatedValues,
  singleValued,
} from '#lib/oauth-protocol';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  authorizationHeader,
  readFormParameters,
  requestContext,
  RPC_CLIENT,
  sendJson,
} from '#lib/http-edge';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';

/** The token endpoint (RFC 6749 §3.2): POST only; the grant is decided by the token service. */
@Controller()
export class TokenHttpController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewaySettings,
  ) {}

  @Post('token')
  @HttpCode(200)
  async token(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const all = readFormParameters(request, this.config.maxParameters);
    // RFC 6749 §3.2: no parameter may repeat, except RFC 8707 §2 `resource`.
    const form = singleValued(all, ['resource']);
    const credentials = parseClientAuthentication(authorizationHeader(request), form);
    const parameters = { ...form };
    for (const name of CLIENT_AUTHENTICATION_PARAMETERS) delete parameters[name];
    const command: TokenGrantRequest = {
      context: requestContext(request),
      credentials,
      parameters,
      resources: repeatedValues(all, 'resource'),
    };
    const response = await this.rpc.request<TokenResponse>(Subjects.token.grant, command);
    sendJson(reply, 200, response);
  }
}
