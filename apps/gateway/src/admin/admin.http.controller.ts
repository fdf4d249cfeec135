import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import { Subjects, type TokenHistoryRequest, type TokenHistoryResponse } from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestContext } from '../http/form.js';
import { sendJson } from '../http/responses.js';
import { RPC_CLIENT } from '../rpc.provider.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** The audit API: a token's events in order, from the event store. */
@ApiTags('admin: audit')
@ApiBearerAuth()
@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  @Get('tokens/:jti/history')
  async tokenHistory(@Param('jti') jti: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(jti)) throw invalidRequest('malformed jti');
    const command: TokenHistoryRequest = { context: requestContext(request), jti };
    const history = await this.rpc.request<TokenHistoryResponse>(
      Subjects.introspection.tokenHistory,
      command,
    );
    sendJson(reply, 200, history);
  }
}
