import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Delete, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  consentDocument,
  type EndSessionResponse,
  type ListConsentsResponse,
  type ListSessionsResponse,
  type ListUsersRequest,
  type ListUsersResponse,
  type RevokeConsentResponse,
  sessionDocument,
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
import { idPaging, jsonBody, operation, pathParameter } from '../openapi/decorators.js';

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
  @operation({ id: 'listUsers', summary: 'List resource owners, paged by sub', schema: 'UserPage' })
  @idPaging()
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
  @operation({
    id: 'createUser',
    summary: 'Create a resource owner (the password is stored as an argon2id hash)',
    status: 201,
    schema: 'User',
    errors: [409],
  })
  @jsonBody('NewUser')
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
  @operation({
    id: 'getUser',
    summary: 'Read a resource owner (never the password hash)',
    schema: 'User',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  async get(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendJson(
      reply,
      200,
      userJson(await this.rpc.request<UserView>(Subjects.consent.admin.getUser, this.ref(request, sub))),
    );
  }

  @Post('users/:sub/disable')
  @operation({
    id: 'disableUser',
    summary: 'Disable a user: sessions end and every grant of the user is revoked',
    schema: 'User',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  async disable(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendJson(
      reply,
      200,
      userJson(await this.rpc.request<UserView>(Subjects.consent.admin.disableUser, this.ref(request, sub))),
    );
  }

  @Post('users/:sub/enable')
  @operation({ id: 'enableUser', summary: 'Enable a disabled user again', schema: 'User', errors: [404] })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  async enable(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendJson(
      reply,
      200,
      userJson(await this.rpc.request<UserView>(Subjects.consent.admin.enableUser, this.ref(request, sub))),
    );
  }

  @Post('users/:sub/erase')
  @operation({
    id: 'eraseUser',
    summary:
      "Erase a user (GDPR Art. 17): the user's data key is destroyed, so every personal field of their history reads as erased; sessions end and every grant is revoked; the sub stays, pseudonymous. Repeating it changes nothing.",
    schema: 'User',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  async erase(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    sendJson(
      reply,
      200,
      userJson(await this.rpc.request<UserView>(Subjects.consent.admin.eraseUser, this.ref(request, sub))),
    );
  }

  @Post('users/:sub/password')
  @operation({
    id: 'setUserPassword',
    summary: 'Set a new password: sessions end and every grant of the user is revoked',
    schema: 'User',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  @jsonBody({ type: 'object', required: ['password'], properties: { password: { type: 'string' } } })
  async setPassword(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const doc = object(request);
    const user = await this.rpc.request<UserView>(Subjects.consent.admin.setPassword, {
      ...this.ref(request, sub),
      password: doc.password,
    });
    sendJson(reply, 200, userJson(user));
  }

  @Get('users/:sub/consents')
  @operation({
    id: 'listUserConsents',
    summary: "A user's remembered consents",
    schema: 'Consents',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
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
  @operation({
    id: 'revokeUserConsent',
    summary: 'Revoke a consent: the grants made under it and their tokens are revoked',
    schema: 'ConsentRevoked',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  @pathParameter('clientId', 'client_id')
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

  @Get('users/:sub/sessions')
  @operation({
    id: 'listUserSessions',
    summary: "A user's browser sessions that stand (coarse user agent, auth_time, clients)",
    schema: 'Sessions',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  async sessions(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const result = await this.rpc.request<ListSessionsResponse>(
      Subjects.consent.admin.listSessions,
      this.ref(request, sub),
    );
    sendJson(reply, 200, { sub: result.sub, sessions: result.sessions.map(sessionDocument) });
  }

  @Delete('users/:sub/sessions/:sid')
  @operation({
    id: 'endUserSession',
    summary: "End one of a user's browser sessions (SessionEnded, reason admin)",
    schema: 'SessionEnded',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9_-]{1,64}$')
  @pathParameter('sid', 'the session id', '^[A-Za-z0-9_-]{22,64}$')
  async endSession(
    @Param('sub') sub: string,
    @Param('sid') sid: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!/^[A-Za-z0-9_-]{22,64}$/.test(sid)) throw invalidRequest('malformed sid');
    const result = await this.rpc.request<EndSessionResponse>(Subjects.consent.admin.endSession, {
      ...this.ref(request, sub),
      sid,
    });
    sendJson(reply, 200, { ended: result.ended });
  }
}
