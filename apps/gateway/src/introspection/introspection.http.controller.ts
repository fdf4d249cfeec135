import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  type IntrospectRequest,
  type IntrospectResponse,
  type RevokeRequest,
  Subjects,
} from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import { parseClientAuthentication } from '#lib/oauth-protocol';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorizationHeader, noStore, readForm, requestContext, RPC_CLIENT, sendJson } from '#lib/http-edge';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';

/** Introspection (RFC 7662 §2) and revocation (RFC 7009 §2): client-authenticated POSTs. */
@Controller()
export class IntrospectionHttpController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewaySettings,
  ) {}

  private tokenRequest(request: FastifyRequest) {
    const form = readForm(request, this.config.maxParameters);
    const credentials = parseClientAuthentication(authorizationHeader(request), form);
    // RFC 7662 §2.1, RFC 7009 §2.1: `token` is REQUIRED.
    if (form.token === undefined) throw invalidRequest('token is required');
    return {
      context: requestContext(request),
      credentials,
      token: form.token,
      tokenTypeHint: form.token_type_hint,
    };
  }

  @Post('introspect')
  @HttpCode(200)
  async introspect(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const command: IntrospectRequest = this.tokenRequest(request);
    const response = await this.rpc.request<IntrospectResponse>(Subjects.introspection.introspect, command);
    sendJson(reply, 200, response);
  }

  @Post('revoke')
  @HttpCode(200)
  async revoke(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const command: RevokeRequest = this.tokenRequest(request);
    await this.rpc.request<Record<string, never>>(Subjects.introspection.revoke, command);
    // RFC 7009 §2.2: 200, the content of the body is ignored by the client; we send none.
    void noStore(reply).status(200).send();
  }
}
