import {
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Controller, Delete, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  consentDocument,
  type ListConsentsResponse,
  type ListUsersRequest,
  type ListUsersResponse,
  type RevokeConsentResponse,
  Subjects,
  type UserRefRequest,
  userDocument,
  type UserView,
} from '#lib/contracts';
import { isClientId } from '#lib/domain-client';
import { invalidRequest } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminCommand } from './admin-command.js';
import { readJson, RPC_CLIENT, sendJson } from '#lib/http-edge';

const SUB = /^[A-Za-z0-9_-]{1,64}$/;

function object(request: FastifyRequest): Record<string, unknown> {
  const doc = readJson(request);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalidRequest('the body must be a JSON object');
  return doc as Record<string, unknown>;
}

const userJson = userDocument;

/**
 * The admin API over resource owners and their consents (the CLI offers the same over NATS).
 * Disabling a user or setting a password revokes every grant of the user; revoking a consent
 * revokes the grants made under it (RFC 9700 §4.14.2: refresh tokens may end on a password change).
 */
@ApiTags('admin: users')
@ApiBearerAuth()
@Controller('admin')
export class AdminUsersHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  private ref(request: FastifyRequest, sub: string): UserRefRequest {
    if (!SUB.test(sub)) throw invalidRequest('malformed sub');
    return { ...adminCommand(request), sub };
  }

  @Get('users')
  @ApiOperation({ summary: 'List resource owners, paged by sub' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 100 (default 50)' })
  @ApiQuery({ name: 'after', required: false, description: 'the `next` cursor of the previous page' })
  @ApiResponse({ status: 200, description: '{ users: [...], next: cursor | null }' })
  async list(
    @Req() request: FastifyRequest,
    @Query('limit') limit: string | undefined,
    @Query('after') after: string | undefined,
    @Res() reply: FastifyReply,
  ) {
    const n = limit === undefined ? 50 : /^\d{1,3}$/.test(limit) ? Number(limit) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 100) throw invalidRequest('limit must be 1 to 100');
    if (after !== undefined && (typeof after !== 'string' || after.length > 64))
      throw invalidRequest('malformed after');
    const page = await this.rpc.request<ListUsersResponse>(
      Subjects.consent.admin.listUsers,
      { ...adminCommand(request), limit: n, after } satisfies ListUsersRequest,
      String(request.id),
    );
    sendJson(reply, 200, { users: page.users.map(userJson), next: page.next ?? null });
  }

  @Post('users')
  @ApiOperation({ summary: 'Create a resource owner (the password is stored as an argon2id hash)' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['username', 'password'],
      properties: {
        username: { type: 'string' },
        password: { type: 'string', minLength: 8 },
        email: { type: 'string' },
        name: { type: 'string' },
      },
    },
  })
  @ApiResponse({ status: 201, description: 'the user' })
  @ApiResponse({ status: 409, description: 'invalid_request: the username is taken' })
  async create(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const doc = object(request);
    const user = await this.rpc.request<UserView>(Subjects.consent.admin.createUser, {
      ...adminCommand(request),
      username: doc.username,
      password: doc.password,
      ...(doc.email !== undefined ? { email: doc.email } : {}),
      ...(doc.name !== undefined ? { name: doc.name } : {}),
    });
    sendJson(reply, 201, userJson(user));
  }

  @Get('users/:sub')
  @ApiOperation({ summary: 'Read a resource owner (never the password hash)' })
  @ApiParam({ name: 'sub' })
  @ApiResponse({ status: 404, description: 'not_found' })
  async get(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendJson(
      reply,
      200,
      userJson(await this.rpc.request<UserView>(Subjects.consent.admin.getUser, this.ref(request, sub))),
    );
  }

  @Post('users/:sub/disable')
  @ApiOperation({ summary: 'Disable a user: sessions end and every grant of the user is revoked' })
  @ApiParam({ name: 'sub' })
  async disable(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendJson(
      reply,
      200,
      userJson(await this.rpc.request<UserView>(Subjects.consent.admin.disableUser, this.ref(request, sub))),
    );
  }

  @Post('users/:sub/enable')
  @ApiOperation({ summary: 'Enable a disabled user again' })
  @ApiParam({ name: 'sub' })
  async enable(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendJson(
      reply,
      200,
      userJson(await this.rpc.request<UserView>(Subjects.consent.admin.enableUser, this.ref(request, sub))),
    );
  }

  @Post('users/:sub/password')
  @ApiOperation({ summary: 'Set a new password: sessions end and every grant of the user is revoked' })
  @ApiParam({ name: 'sub' })
  @ApiBody({
    schema: { type: 'object', required: ['password'], properties: { password: { type: 'string' } } },
  })
  async setPassword(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const doc = object(request);
    const user = await this.rpc.request<UserView>(Subjects.consent.admin.setPassword, {
      ...this.ref(request, sub),
      password: doc.password,
    });
    sendJson(reply, 200, userJson(user));
  }

  @Get('users/:sub/consents')
  @ApiOperation({ summary: "A user's remembered consents" })
  @ApiParam({ name: 'sub' })
  async consents(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const result = await this.rpc.request<ListConsentsResponse>(
      Subjects.consent.admin.listConsents,
      this.ref(request, sub),
    );
    sendJson(reply, 200, {
      sub: result.sub,
      consents: result.consents.map(consentDocument),
    });
  }

  @Delete('users/:sub/consents/:clientId')
  @ApiOperation({ summary: 'Revoke a consent: the grants made under it and their tokens are revoked' })
  @ApiParam({ name: 'sub' })
  @ApiParam({ name: 'clientId' })
  async revokeConsent(
    @Param('sub') sub: string,
    @Param('clientId') clientId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!isClientId(clientId)) throw invalidRequest('malformed client_id');
    const result = await this.rpc.request<RevokeConsentResponse>(Subjects.consent.admin.revokeConsent, {
      ...this.ref(request, sub),
      clientId,
    });
    sendJson(reply, 200, { revoked: result.revoked, grants_revoked: result.grantsRevoked });
  }
}
