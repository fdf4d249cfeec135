import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  type AsOfRequest,
  type AuditEvent,
  type GrantAsOfResponse,
  type GrantHistoryRequest,
  type GrantHistoryResponse,
  Subjects,
  type UserHistoryRequest,
  type UserHistoryResponse,
} from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminCommand } from './admin-command.js';
import { RPC_CLIENT, sendJson } from '#lib/http-edge';
import { instant, page, sendPage } from './admin-tokens.http.controller.js';
import { timelineEntry } from './audit-page.js';
import { historyPaging, instantQuery, operation, pathParameter } from '../openapi/decorators.js';

/** Most events a timeline page shows (pages of 500 fetched in turn). */
const TIMELINE_MAX_EVENTS = 5000;

/** Grant ids are 22 base64url characters (libs/domain-grant); subs are opaque ids. */
const GRANT_ID = /^[A-Za-z0-9_-]{22}$/;
const SUB = /^[A-Za-z0-9._~-]{1,128}$/;

function grantId(id: string): string {
  if (!GRANT_ID.test(id)) throw invalidRequest('malformed grant id');
  return id;
}

/**
 * The audit API for grants and resource owners (docs/events.md "Audit API"): a grant's history and
 * its state at an instant, a user's history, and the grant's server-rendered timeline.
 */
@ApiTags('admin: audit')
@ApiBearerAuth()
@Controller('admin')
export class AdminAuditHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  @Get('grants/:grantId/history')
  @operation({
    id: 'getGrantHistory',
    summary: "A grant's events, its tokens' and its consent's",
    schema: 'GrantHistoryPage',
    errors: [404],
  })
  @pathParameter('grantId', 'the grant id', '^[A-Za-z0-9_-]{22}$')
  @historyPaging()
  async grantHistory(
    @Param('grantId') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const command: GrantHistoryRequest = {
      ...adminCommand(request),
      grantId: grantId(id),
      page: page(request),
    };
    sendJson(
      reply,
      200,
      await this.rpc.request<GrantHistoryResponse>(Subjects.introspection.admin.grantHistory, command),
    );
  }

  @Get('grants/:grantId')
  @operation({
    id: 'getGrantState',
    summary: 'A grant at an instant (now by default)',
    schema: 'GrantAsOf',
    errors: [404],
  })
  @pathParameter('grantId', 'the grant id', '^[A-Za-z0-9_-]{22}$')
  @instantQuery('as_of', 'the instant (default: now)')
  async grantAsOf(@Param('grantId') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const command: AsOfRequest = {
      ...adminCommand(request),
      id: grantId(id),
      asOf: instant(request, 'as_of'),
    };
    sendJson(
      reply,
      200,
      await this.rpc.request<GrantAsOfResponse>(Subjects.introspection.admin.grantAsOf, command),
    );
  }

  @Get('users/:sub/history')
  @operation({
    id: 'getUserHistory',
    summary: 'The events naming a user, a page at a time',
    schema: 'UserHistoryPage',
    errors: [404],
  })
  @pathParameter('sub', 'the user id', '^[A-Za-z0-9._~-]{1,128}$')
  @historyPaging()
  async userHistory(@Param('sub') sub: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!SUB.test(sub)) throw invalidRequest('malformed sub');
    const command: UserHistoryRequest = { ...adminCommand(request), sub, page: page(request) };
    sendJson(
      reply,
      200,
      await this.rpc.request<UserHistoryResponse>(Subjects.introspection.admin.userHistory, command),
    );
  }

  @Get('audit/grants/:grantId')
  @operation({ id: 'showGrantTimeline', summary: "A grant's life as a page", html: true, errors: [404] })
  @pathParameter('grantId', 'the grant id', '^[A-Za-z0-9_-]{22}$')
  async grantTimeline(
    @Param('grantId') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const admin = adminCommand(request);
    const state = await this.rpc.request<GrantAsOfResponse>(Subjects.introspection.admin.grantAsOf, {
      ...admin,
      id: grantId(id),
    } satisfies AsOfRequest);
    const events: AuditEvent[] = [];
    let after: number | undefined;
    do {
      const history = await this.rpc.request<GrantHistoryResponse>(
        Subjects.introspection.admin.grantHistory,
        {
          ...admin,
          grantId: id,
          page: { limit: 500, after },
        } satisfies GrantHistoryRequest,
      );
      events.push(...history.events);
      after = history.next ?? undefined;
    } while (after !== undefined && events.length < TIMELINE_MAX_EVENTS);
    await sendPage(reply, {
      title: `Grant ${state.grantId}`,
      facts: [
        ['status', state.revocationReason ? `revoked (${state.revocationReason})` : state.status],
        ['client', state.clientId],
        ['user', state.username ? `${state.username} (${state.sub})` : state.sub],
        ['scope', state.scope.join(' ')],
        ...(state.resource.length > 0
          ? ([['resource', state.resource.join(' ')]] as [string, string][])
          : []),
        ['authenticated', new Date(state.authTime * 1000).toISOString()],
        ...(state.refresh
          ? ([
              ['refresh generation', String(state.refresh.generation)],
              ['family expires', state.refresh.familyExpiresAt],
            ] as [string, string][])
          : []),
        ['access tokens', String(state.accessTokenJtis.length)],
      ],
      // Every event of a grant's life is its client's (grant events name none, GrantRevoked its author).
      entries: events.map(timelineEntry).map((e) => ({ ...e, client: state.clientId })),
    });
  }
}
