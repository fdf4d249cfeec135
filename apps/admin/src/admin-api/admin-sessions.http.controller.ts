import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  type AsOfRequest,
  type AuditEvent,
  type SessionAsOfResponse,
  type SessionHistoryRequest,
  type SessionHistoryResponse,
  Subjects,
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
const SID = /^[A-Za-z0-9_-]{22,64}$/;
const SID_PATTERN = '^[A-Za-z0-9_-]{22,64}$';

function sid(id: string): string {
  if (!SID.test(id)) throw invalidRequest('malformed sid');
  return id;
}

/**
 * The audit API for browser sessions (docs/events.md "Audit API"): a session's history, its state
 * at an instant, and its server-rendered timeline beside the grant and token pages.
 */
@ApiTags('admin: audit')
@ApiBearerAuth()
@Controller('admin')
export class AdminSessionsHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  @Get('sessions/:sid/history')
  @operation({
    id: 'getSessionHistory',
    summary: "A browser session's events: start, uses, the clients it signed in to, its end",
    schema: 'SessionHistoryPage',
    errors: [404],
  })
  @pathParameter('sid', 'the session id', SID_PATTERN)
  @historyPaging()
  async history(@Param('sid') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const command: SessionHistoryRequest = { ...adminCommand(request), sid: sid(id), page: page(request) };
    sendJson(
      reply,
      200,
      await this.rpc.request<SessionHistoryResponse>(Subjects.introspection.admin.sessionHistory, command),
    );
  }

  @Get('sessions/:sid')
  @operation({
    id: 'getSessionState',
    summary: 'A browser session at an instant (now by default)',
    schema: 'SessionAsOf',
    errors: [404],
  })
  @pathParameter('sid', 'the session id', SID_PATTERN)
  @instantQuery('as_of', 'the instant (default: now)')
  async asOf(@Param('sid') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const command: AsOfRequest = { ...adminCommand(request), id: sid(id), asOf: instant(request, 'as_of') };
    sendJson(
      reply,
      200,
      await this.rpc.request<SessionAsOfResponse>(Subjects.introspection.admin.sessionAsOf, command),
    );
  }

  @Get('audit/sessions/:sid')
  @operation({
    id: 'showSessionTimeline',
    summary: "A browser session's life as a page",
    html: true,
    errors: [404],
  })
  @pathParameter('sid', 'the session id', SID_PATTERN)
  async timeline(@Param('sid') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const admin = adminCommand(request);
    const state = await this.rpc.request<SessionAsOfResponse>(Subjects.introspection.admin.sessionAsOf, {
      ...admin,
      id: sid(id),
    } satisfies AsOfRequest);
    const events: AuditEvent[] = [];
    let after: number | undefined;
    do {
      const history = await this.rpc.request<SessionHistoryResponse>(
        Subjects.introspection.admin.sessionHistory,
        { ...admin, sid: id, page: { limit: 500, after } } satisfies SessionHistoryRequest,
      );
      events.push(...history.events);
      after = history.next ?? undefined;
    } while (after !== undefined && events.length < TIMELINE_MAX_EVENTS);
    await sendPage(reply, {
      title: `Session ${state.sid}`,
      facts: [
        ['status', state.endReason ? `ended (${state.endReason})` : state.status],
        ['user', state.sub],
        ['user agent', `${state.userAgent.browser} on ${state.userAgent.os}`],
        ['authenticated', state.authTime],
        ['amr / acr', `${state.amr.join(' ')} / ${state.acr}`],
        ['last used', state.lastUsedAt],
        ['expires', state.expiresAt],
        ['clients', state.clients.join(' ') || 'none'],
      ],
      entries: events.map(timelineEntry),
    });
  }
}
