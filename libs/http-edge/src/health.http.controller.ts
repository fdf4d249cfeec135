import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { type HealthResponse, Subjects } from '#lib/contracts';
import type { RpcClient } from '#lib/service-runtime';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendJson } from './responses.js';
import { RPC_CLIENT } from './rpc.provider.js';

/** Liveness: the process answers. Readiness: every service answers over NATS. */
@ApiTags('health')
@Controller('health')
export class HealthHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'The process answers' })
  @ApiResponse({ status: 200, description: 'alive', schema: { $ref: '#/components/schemas/Liveness' } })
  live(@Res() reply: FastifyReply): void {
    sendJson(reply, 200, { status: 'ok' });
  }

  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness', summary: 'Every service answers over NATS' })
  @ApiResponse({ status: 200, description: 'ready', schema: { $ref: '#/components/schemas/Readiness' } })
  @ApiResponse({
    status: 503,
    description: 'a service does not answer',
    schema: { $ref: '#/components/schemas/Readiness' },
  })
  async ready(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const subjects = [
      Subjects.client.health,
      Subjects.consent.health,
      Subjects.token.health,
      Subjects.introspection.health,
    ];
    const results = await Promise.allSettled(
      subjects.map((s) => this.rpc.request<HealthResponse>(s, {}, String(request.id))),
    );
    const services = Object.fromEntries(
      subjects.map((s, i) => [
        s.split('.').slice(-2, -1)[0],
        results[i]!.status === 'fulfilled' ? 'ok' : 'unavailable',
      ]),
    );
    const ok = results.every((r) => r.status === 'fulfilled');
    sendJson(reply, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', services });
  }
}
