import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Delete, Get, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import {
  type AsOfRequest,
  type ClientAsOfResponse,
  type AdminClientRequest,
  type AdminCreateClientRequest,
  type ClientPrivilegeRequest,
  initialAccessTokenDocument,
  type ListInitialAccessTokensResponse,
  type RevokeInitialAccessTokenRequest,
  type ClientView,
  type CreateInitialAccessTokenRequest,
  type CreateInitialAccessTokenResponse,
  type ListClientsResponse,
  type RegisterDynamicClientResponse,
  type RotateClientSecretResponse,
  Subjects,
} from '#lib/contracts';
import { clientMetadataDocument, clientSecretExpiresAt, isClientId } from '#lib/domain-client';
import { invalidRequest } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminCommand } from './admin-command.js';
import { readJson, RPC_CLIENT, sendJson } from '#lib/http-edge';
import { instant } from './admin-tokens.http.controller.js';
import { idPaging, instantQuery, jsonBody, operation, pathParameter } from '../openapi/decorators.js';

// RFC 6749 §3.3 scope-token.
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

function optionalBody(request: FastifyRequest): Record<string, unknown> {
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
@ApiTags('admin: clients')
@ApiBearerAuth()
@Controller('admin')
export class AdminClientsHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  private manage(request: FastifyRequest, clientId: string): AdminClientRequest {
    if (!isClientId(clientId)) throw invalidRequest('malformed client_id');
    return { ...adminCommand(request), clientId };
  }

  @Get('clients')
  @operation({
    id: 'listClients',
    summary: 'List the current clients, paged by client_id',
    schema: 'ClientPage',
  })
  @idPaging()
  async list(
    @Query('limit') limit: string | undefined,
    @Query('after') after: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const n = limit === undefined ? 50 : /^\d{1,3}$/.test(limit) ? Number(limit) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 100) throw invalidRequest('limit must be 1 to 100');
    if (after !== undefined && typeof after !== 'string') throw invalidRequest('malformed after');
    const page = await this.rpc.request<ListClientsResponse>(Subjects.client.admin.list, {
      ...adminCommand(request),
      limit: n,
      after,
    });
    sendJson(reply, 200, { clients: page.clients.map(clientMetadataDocument), next: page.next ?? null });
  }

  @Post('clients')
  @operation({
    id: 'createClient',
    summary: 'Create a client; the secret and registration access token are shown once',
    status: 201,
    schema: 'ClientCreated',
  })
  @jsonBody('ClientMetadata')
  async create(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const result = await this.rpc.request<RegisterDynamicClientResponse>(Subjects.client.admin.create, {
      ...adminCommand(request),
      document: readJson(request),
    } satisfies AdminCreateClientRequest);
    const body: Record<string, unknown> = {
      ...clientMetadataDocument(result.client),
      registration_access_token: result.registrationAccessToken,
    };
    if (result.clientSecret !== undefined) body.client_secret = result.clientSecret;
    sendJson(reply, 201, body);
  }

  @Get('clients/:id')
  @operation({
    id: 'getClient',
    summary: 'Read a client (never its secret)',
    schema: 'ClientOrState',
    errors: [404],
  })
  @pathParameter('id', 'client_id')
  @instantQuery('as_of', 'the client as it was at this instant (then answered as ClientAsOf)')
  async get(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const asOf = instant(request, 'as_of');
    if (asOf !== undefined) {
      const command: AsOfRequest = { ...adminCommand(request), id, asOf };
      sendJson(
        reply,
        200,
        await this.rpc.request<ClientAsOfResponse>(Subjects.introspection.admin.clientAsOf, command),
      );
      return;
    }
    const view = await this.rpc.request<ClientView>(Subjects.client.admin.read, this.manage(request, id));
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Put('clients/:id')
  @operation({
    id: 'updateClient',
    summary: 'Replace the metadata of a client (RFC 7592 §2.2 semantics)',
    schema: 'Client',
    errors: [404],
  })
  @pathParameter('id', 'client_id')
  @jsonBody('ClientMetadata')
  async update(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const view = await this.rpc.request<ClientView>(Subjects.client.admin.update, {
      ...this.manage(request, id),
      document: readJson(request),
    });
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Post('clients/:id/disable')
  @operation({
    id: 'disableClient',
    summary: 'Disable a client: it cannot authenticate and its tokens introspect as inactive',
    schema: 'Client',
    errors: [404],
  })
  @pathParameter('id', 'client_id')
  async disable(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const view = await this.rpc.request<ClientView>(Subjects.client.admin.disable, this.manage(request, id));
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Delete('clients/:id')
  @operation({
    id: 'deleteClient',
    summary: 'Delete a client; its tokens stop introspecting as active',
    status: 204,
    errors: [404],
  })
  @pathParameter('id', 'client_id')
  async delete(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.rpc.request(Subjects.client.admin.delete, this.manage(request, id));
    void reply.header('Cache-Control', 'no-store').status(204).send();
  }

  @Post('clients/:id/rotate-secret')
  @operation({
    id: 'rotateClientSecret',
    summary: 'Rotate the secret; the old one stops at once unless grace_seconds is given',
    schema: 'RotatedSecret',
    errors: [404],
  })
  @pathParameter('id', 'client_id')
  @jsonBody(
    { type: 'object', properties: { grace_seconds: { type: 'integer', minimum: 0, maximum: 86400 } } },
    false,
  )
  async rotateSecret(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const body = optionalBody(request);
    const grace = body.grace_seconds ?? 0;
    if (typeof grace !== 'number' || !Number.isInteger(grace))
      throw invalidRequest('grace_seconds must be an integer');
    const result = await this.rpc.request<RotateClientSecretResponse>(Subjects.client.admin.rotateSecret, {
      ...this.manage(request, id),
      graceSeconds: grace,
    });
    sendJson(reply, 200, {
      client_id: result.clientId,
      client_secret: result.clientSecret,
      client_secret_expires_at: clientSecretExpiresAt(result.secretExpiresAt),
    });
  }

  @Post('clients/:id/privileged-scopes')
  @operation({
    id: 'grantPrivilegedScope',
    summary: 'Grant the client a privileged scope (e.g. admin); recorded with the administrator',
    schema: 'Client',
    errors: [404],
  })
  @pathParameter('id', 'client_id')
  @jsonBody({ type: 'object', required: ['scope'], properties: { scope: { type: 'string' } } })
  async grantScope(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const scope = optionalBody(request).scope;
    if (typeof scope !== 'string' || !SCOPE.test(scope))
      throw invalidRequest('scope must be one scope token');
    const view = await this.rpc.request<ClientView>(Subjects.client.admin.grantScope, {
      ...this.manage(request, id),
      scope,
    } satisfies ClientPrivilegeRequest);
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Delete('clients/:id/privileged-scopes/:scope')
  @operation({
    id: 'revokePrivilegedScope',
    summary: 'Take a privileged scope back from the client; its tokens stop working at the admin API',
    schema: 'Client',
    errors: [404],
  })
  @pathParameter('id', 'client_id')
  @pathParameter('scope', 'the privileged scope (RFC 6749 §3.3 scope-token)')
  async revokeScope(
    @Param('id') id: string,
    @Param('scope') scope: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!SCOPE.test(scope)) throw invalidRequest('malformed scope');
    const view = await this.rpc.request<ClientView>(Subjects.client.admin.revokeScope, {
      ...this.manage(request, id),
      scope,
    } satisfies ClientPrivilegeRequest);
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Post('initial-access-tokens')
  @operation({
    id: 'createInitialAccessToken',
    summary: 'Create an RFC 7591 initial access token for POST /register (shown once)',
    status: 201,
    schema: 'InitialAccessTokenCreated',
  })
  @jsonBody(
    {
      type: 'object',
      properties: {
        ttl_seconds: { type: 'integer', minimum: 1 },
        max_uses: { type: 'integer', minimum: 1, description: 'registrations it allows; absent: any' },
      },
    },
    false,
  )
  async createInitialAccessToken(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const body = optionalBody(request);
    const integer = (name: string) => {
      const v = body[name];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v)))
        throw invalidRequest(`${name} must be an integer`);
      return v as number | undefined;
    };
    const ttl = integer('ttl_seconds');
    const maxUses = integer('max_uses');
    const command: CreateInitialAccessTokenRequest = {
      ...adminCommand(request),
      ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
      ...(maxUses !== undefined ? { maxUses } : {}),
    };
    const result = await this.rpc.request<CreateInitialAccessTokenResponse>(
      Subjects.client.admin.createInitialAccessToken,
      command,
    );
    sendJson(reply, 201, {
      initial_access_token: result.initialAccessToken,
      ...initialAccessTokenDocument(result.token),
    });
  }

  @Get('initial-access-tokens')
  @operation({
    id: 'listInitialAccessTokens',
    summary: 'List the initial access tokens (never the tokens themselves), newest first',
    schema: 'InitialAccessTokenList',
  })
  async listInitialAccessTokens(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const result = await this.rpc.request<ListInitialAccessTokensResponse>(
      Subjects.client.admin.listInitialAccessTokens,
      adminCommand(request),
    );
    sendJson(reply, 200, {
      initial_access_tokens: result.initialAccessTokens.map(initialAccessTokenDocument),
    });
  }

  @Delete('initial-access-tokens/:id')
  @operation({
    id: 'revokeInitialAccessToken',
    summary: 'Revoke an initial access token: it registers no further client',
    status: 204,
    errors: [404],
  })
  @pathParameter('id', 'the id listed for the token', '^[A-Za-z0-9_-]{1,64}$')
  async revokeInitialAccessToken(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw invalidRequest('malformed id');
    await this.rpc.request(Subjects.client.admin.revokeInitialAccessToken, {
      ...adminCommand(request),
      id,
    } satisfies RevokeInitialAccessTokenRequest);
    void reply.header('Cache-Control', 'no-store').status(204).send();
  }
}
