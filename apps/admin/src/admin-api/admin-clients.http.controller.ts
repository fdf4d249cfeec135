import {
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
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
import {
  clientMetadataDocument,
  clientSecretExpiresAt,
  isClientId,
  SUPPORTED_GRANT_TYPES,
} from '#lib/domain-client';
import { invalidRequest } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminCommand } from './admin-command.js';
import { readJson, RPC_CLIENT, sendJson } from '#lib/http-edge';
import { instant } from './admin-tokens.http.controller.js';

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
const METADATA_BODY = {
  description: 'RFC 7591 §2 client metadata (JSON, snake_case)',
  schema: {
    type: 'object',
    required: ['client_name', 'grant_types'],
    properties: {
      client_name: { type: 'string' },
      token_endpoint_auth_method: {
        type: 'string',
        enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      },
      grant_types: {
        type: 'array',
        items: { type: 'string', enum: [...SUPPORTED_GRANT_TYPES] },
      },
      response_types: { type: 'array', items: { type: 'string', enum: ['code'] } },
      redirect_uris: { type: 'array', items: { type: 'string' } },
      scope: { type: 'string', description: 'space-separated allowed scope' },
      default_scope: { type: 'string' },
      audience: { type: 'array', items: { type: 'string' } },
      client_uri: { type: 'string' },
      logo_uri: { type: 'string' },
      contacts: { type: 'array', items: { type: 'string' } },
      require_pkce: { type: 'boolean', default: true },
      refresh_token_reuse_grace_seconds: { type: 'integer', minimum: 0, maximum: 60 },
      access_token_ttl_seconds: { type: 'integer' },
      refresh_token_ttl_seconds: { type: 'integer' },
      jwks: { type: 'object' },
      jwks_uri: { type: 'string' },
    },
  },
};

const ERRORS = [
  { status: 400, description: 'invalid_request, invalid_client_metadata or invalid_redirect_uri' },
  { status: 401, description: 'invalid_token: no valid admin bearer' },
  { status: 403, description: 'insufficient_scope: an access token without scope admin' },
];

function documentErrors(): MethodDecorator {
  return (target, key, descriptor) => {
    for (const e of ERRORS) ApiResponse(e)(target, key, descriptor);
  };
}

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
  @ApiOperation({ summary: 'List the current clients, paged by client_id' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 100 (default 50)' })
  @ApiQuery({ name: 'after', required: false, description: 'the `next` cursor of the previous page' })
  @ApiResponse({ status: 200, description: '{ clients: [metadata], next: cursor | null }' })
  @documentErrors()
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
  @ApiOperation({ summary: 'Create a client; the secret and registration access token are shown once' })
  @ApiBody(METADATA_BODY)
  @ApiResponse({ status: 201, description: 'the client metadata, client_secret, registration_access_token' })
  @documentErrors()
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
  @ApiOperation({ summary: 'Read a client (never its secret)' })
  @ApiParam({ name: 'id', description: 'client_id' })
  @ApiResponse({ status: 200, description: 'the client metadata' })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
  @ApiQuery({ name: 'as_of', required: false, description: 'ISO 8601 instant: the client as it was then' })
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
  @ApiOperation({ summary: 'Replace the metadata of a client (RFC 7592 §2.2 semantics)' })
  @ApiParam({ name: 'id', description: 'client_id' })
  @ApiBody(METADATA_BODY)
  @ApiResponse({ status: 200, description: 'the new client metadata' })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
  async update(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const view = await this.rpc.request<ClientView>(Subjects.client.admin.update, {
      ...this.manage(request, id),
      document: readJson(request),
    });
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Post('clients/:id/disable')
  @ApiOperation({ summary: 'Disable a client: it cannot authenticate and its tokens introspect as inactive' })
  @ApiParam({ name: 'id', description: 'client_id' })
  @ApiResponse({ status: 200, description: 'the client metadata, status disabled' })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
  async disable(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const view = await this.rpc.request<ClientView>(Subjects.client.admin.disable, this.manage(request, id));
    sendJson(reply, 200, clientMetadataDocument(view));
  }

  @Delete('clients/:id')
  @ApiOperation({ summary: 'Delete a client; its tokens stop introspecting as active' })
  @ApiParam({ name: 'id', description: 'client_id' })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
  async delete(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.rpc.request(Subjects.client.admin.delete, this.manage(request, id));
    void reply.header('Cache-Control', 'no-store').status(204).send();
  }

  @Post('clients/:id/rotate-secret')
  @ApiOperation({ summary: 'Rotate the secret; the old one stops at once unless grace_seconds is given' })
  @ApiParam({ name: 'id', description: 'client_id' })
  @ApiBody({
    required: false,
    schema: {
      type: 'object',
      properties: { grace_seconds: { type: 'integer', minimum: 0, maximum: 86400 } },
    },
  })
  @ApiResponse({
    status: 200,
    description: '{ client_id, client_secret (shown once), client_secret_expires_at (0: never) }',
  })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
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
  @ApiOperation({
    summary: 'Grant the client a privileged scope (e.g. admin); recorded with the administrator',
  })
  @ApiParam({ name: 'id', description: 'client_id' })
  @ApiBody({ schema: { type: 'object', required: ['scope'], properties: { scope: { type: 'string' } } } })
  @ApiResponse({ status: 200, description: 'the client metadata' })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
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
  @ApiOperation({
    summary: 'Take a privileged scope back from the client; its tokens stop working at the admin API',
  })
  @ApiParam({ name: 'id', description: 'client_id' })
  @ApiParam({ name: 'scope', description: 'the privileged scope' })
  @ApiResponse({ status: 200, description: 'the client metadata' })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
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
  @ApiOperation({ summary: 'Create an RFC 7591 initial access token for POST /register (shown once)' })
  @ApiBody({
    required: false,
    schema: {
      type: 'object',
      properties: {
        ttl_seconds: { type: 'integer', minimum: 1 },
        max_uses: { type: 'integer', minimum: 1, description: 'registrations it allows; absent: any' },
      },
    },
  })
  @ApiResponse({
    status: 201,
    description: '{ initial_access_token, id, expires_at, max_uses, uses, status }',
  })
  @documentErrors()
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
  @ApiOperation({ summary: 'List the initial access tokens (never the tokens themselves), newest first' })
  @ApiResponse({
    status: 200,
    description: '{ initial_access_tokens: [{ id, created_at, expires_at, max_uses, uses, status }] }',
  })
  @documentErrors()
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
  @ApiOperation({ summary: 'Revoke an initial access token: it registers no further client' })
  @ApiParam({ name: 'id', description: 'the id listed for the token' })
  @ApiResponse({ status: 204, description: 'revoked' })
  @ApiResponse({ status: 404, description: 'not_found' })
  @documentErrors()
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
