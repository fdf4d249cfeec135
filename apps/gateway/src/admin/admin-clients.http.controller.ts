import {
  Controller,
  Delete,
  Get,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  type ClientHistoryResponse,
  type ClientManagementRequest,
  type ClientView,
  type CreateInitialAccessTokenRequest,
  type CreateInitialAccessTokenResponse,
  type ListClientsResponse,
  type RegisterDynamicClientResponse,
  type RotateClientSecretResponse,
  Subjects,
} from '#lib/contracts';
import { clientMetadataDocument } from '#lib/domain-client';
import { invalidRequest } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply } from 'fastify';
import { requestContext } from '../http/form.js';
import { readJson } from '../http/json.js';
import { sendJson } from '../http/responses.js';
import { RPC_CLIENT } from '../rpc.provider.js';
import { type AdminRequest, AdminTokenGuard } from './admin-token.guard.js';

const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;

function optionalBody(request: AdminRequest): Record<string, unknown> {
  const body = typeof request.body === 'string' ? request.body.trim() : '';
  if (body === '') return {};
  const doc = readJson(request);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalidRequest('the body must be a JSON object');
  return doc as Record<string, unknown>;
}

/**
 * The admin API over clients (the CLI offers the same operations over NATS). Every change is an
 * event recording the actor: `admin` (ADMIN_TOKEN) or `client:<id>` (an access token with scope admin).
 */
@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminClientsHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  private manage(request: AdminRequest, clientId: string): ClientManagementRequest {
    if (!CLIENT_ID.test(clientId)) throw invalidRequest('malformed client_id');
    return {
      context: requestContext(request),
      actor: request.adminActor ?? 'admin',
      clientId,
      authorization: { kind: 'admin' },
    };
  }

  @Get('clients')
  async list(
    @Query('limit') limit: string | undefined,
    @Query('after') after: string | undefined,
    @Req() request: AdminRequest,
    @Res() reply: FastifyReply,
  ) {
    const n = limit === undefined ? 50 : /^\d{1,3}$/.test(limit) ? Number(limit) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 100) throw invalidRequest('limit must be 1 to 100');
    if (after !== undefined && typeof after !== 'string') throw invalidRequest('malformed after');
    const page = await this.rpc.request<ListClientsResponse>(Subjects.client.list, {
      context: requestContext(request),
      limit: n,
      after,
    });
    sendJson(reply, 200, { clients: page.clients.map(clientMetadataDocument), next: page.next ?? null });
  }

  @Post('clients')
  async create(@Req() request: AdminRequest, @Res() reply: FastifyReply) {
    const result = await this.rpc.request<RegisterDynamicClientResponse>(Subjects.client.registerDynamic, {
      context: requestContext(request),
      actor: request.adminActor ?? 'admin',
      document: readJson(request),
      admin: true,
    });
    const body: Record<string, unknown> = {
      ...clientMetadataDocument(result.client),
      registration_access_token: result.registrationAccessToken,
    };
    if (result.clientSecret !== undefined) body.client_secret = result.clientSecret;
    sendJson(reply, 201, body);
  }

  @Get('clients/:id')
  async get(@Param('id') id: string, @Req() request: AdminRequest, @Res() reply: FastifyReply) {
    const view = await this.rpc.request<ClientView>(Subjects.client.read, this.manage(request, id));
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Put('clients/:id')
  async update(@Param('id') id: string, @Req() request: AdminRequest, @Res() reply: FastifyReply) {
    const view = await this.rpc.request<ClientView>(Subjects.client.update, {
      ...this.manage(request, id),
      document: readJson(request),
    });
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Post('clients/:id/disable')
  async disable(@Param('id') id: string, @Req() request: AdminRequest, @Res() reply: FastifyReply) {
    const view = await this.rpc.request<ClientView>(Subjects.client.disable, this.manage(request, id));
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Delete('clients/:id')
  async delete(@Param('id') id: string, @Req() request: AdminRequest, @Res() reply: FastifyReply) {
    await this.rpc.request(Subjects.client.delete, this.manage(request, id));
    void reply.header('Cache-Control', 'no-store').status(204).send();
  }

  @Post('clients/:id/rotate-secret')
  async rotateSecret(@Param('id') id: string, @Req() request: AdminRequest, @Res() reply: FastifyReply) {
    const body = optionalBody(request);
    const grace = body.grace_seconds ?? 0;
    if (typeof grace !== 'number' || !Number.isInteger(grace))
      throw invalidRequest('grace_seconds must be an integer');
    const m = this.manage(request, id);
    const result = await this.rpc.request<RotateClientSecretResponse>(Subjects.client.rotateSecret, {
      context: m.context,
      actor: m.actor,
      clientId: id,
      graceSeconds: grace,
    });
    sendJson(reply, 200, { client_id: result.clientId, client_secret: result.clientSecret });
  }

  @Get('clients/:id/history')
  async history(@Param('id') id: string, @Req() request: AdminRequest, @Res() reply: FastifyReply) {
    const history = await this.rpc.request<ClientHistoryResponse>(
      Subjects.client.history,
      this.manage(request, id),
    );
    sendJson(reply, 200, history);
  }

  @Post('initial-access-tokens')
  async createInitialAccessToken(@Req() request: AdminRequest, @Res() reply: FastifyReply) {
    const body = optionalBody(request);
    const ttl = body.ttl_seconds;
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isInteger(ttl)))
      throw invalidRequest('ttl_seconds must be an integer');
    const command: CreateInitialAccessTokenRequest = {
      context: requestContext(request),
      actor: request.adminActor ?? 'admin',
      ttlSeconds: ttl as number | undefined,
    };
    const result = await this.rpc.request<CreateInitialAccessTokenResponse>(
      Subjects.client.createInitialAccessToken,
      command,
    );
    sendJson(reply, 201, { initial_access_token: result.initialAccessToken, expires_at: result.expiresAt });
  }
}
