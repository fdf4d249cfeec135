import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  type AsOfRequest,
  type AuditEvent,
  type AuditPageRequest,
  type ClientAsOfResponse,
  type ClientHistoryRequest,
  type ClientHistoryResponse,
  Subjects,
  type TokenAsOfResponse,
  type TokenHistoryRequest,
  type TokenHistoryResponse,
} from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import { parseInstant } from '#lib/oauth-protocol';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminCommand } from './admin-command.js';
import { noStore, RPC_CLIENT, sendJson } from '#lib/http-edge';
import { historyPaging, instantQuery, operation, pathParameter } from '../openapi/decorators.js';
import { AUDIT_PAGE_CSP, timelineEntry, type TimelinePage, timelineView } from './audit-page.js';

/** Most events a timeline page shows (pages of 500 fetched in turn). */
const TIMELINE_MAX_EVENTS = 5000;

const ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** One query parameter given at most once. */
function single(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`${name} must be given once`);
  return value;
}

function integer(request: FastifyRequest, name: string, min: number, max: number): number | undefined {
  const text = single(request, name);
  if (text === undefined) return undefined;
  const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw invalidRequest(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** The query parameter `name` as an ISO 8601 instant (parseInstant), normalised to UTC. */
export function instant(request: FastifyRequest, name: string): string | undefined {
  return parseInstant(single(request, name), name)?.toISOString();
}

export function page(request: FastifyRequest): AuditPageRequest {
  return {
    limit: integer(request, 'limit', 1, 500) ?? 100,
    after: integer(request, 'after', 0, Number.MAX_SAFE_INTEGER),
    from: instant(request, 'from'),
    to: instant(request, 'to'),
  };
}

/**
 * The audit API (docs/events.md "Audit API"): histories a page at a time, filtered by time, and
 * the state of a token or a client at an instant; and the same lives as server-rendered timelines
 * (`/admin/audit/…`). Grant and user histories: admin-audit.http.controller.ts.
 */
@ApiTags('admin: audit')
@ApiBearerAuth()
@Controller('admin')
export class AdminTokensHttpController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: RpcClient) {}

  @Get('tokens/:jti/history')
  @operation({
    id: 'getTokenHistory',
    summary: "An access token's events, a page at a time",
    schema: 'TokenHistoryPage',
    errors: [404],
  })
  @pathParameter('jti', 'the access token id', '^[A-Za-z0-9_-]{1,128}$')
  @historyPaging()
  async tokenHistory(@Param('jti') jti: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(jti)) throw invalidRequest('malformed jti');
    const command: TokenHistoryRequest = { ...adminCommand(request), jti, page: page(request) };
    const history = await this.rpc.request<TokenHistoryResponse>(
      Subjects.introspection.admin.tokenHistory,
      command,
    );
    sendJson(reply, 200, history);
  }

  @Get('tokens/:jti')
  @operation({
    id: 'getTokenState',
    summary: 'An access token at an instant (now by default)',
    schema: 'TokenAsOf',
    errors: [404],
  })
  @pathParameter('jti', 'the access token id', '^[A-Za-z0-9_-]{1,128}$')
  @instantQuery('as_of', 'the instant (default: now)')
  async tokenAsOf(@Param('jti') jti: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(jti)) throw invalidRequest('malformed jti');
    const command: AsOfRequest = {
      ...adminCommand(request),
      id: jti,
      asOf: instant(request, 'as_of'),
    };
    sendJson(
      reply,
      200,
      await this.rpc.request<TokenAsOfResponse>(Subjects.introspection.admin.tokenAsOf, command),
    );
  }

  @Get('clients/:id/history')
  @operation({
    id: 'getClientHistory',
    summary: "A client's events, a page at a time",
    schema: 'ClientHistoryPage',
    errors: [404],
  })
  @pathParameter('id', 'client_id', '^[A-Za-z0-9._~-]{1,128}$')
  @historyPaging()
  async clientHistory(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!ID.test(id)) throw invalidRequest('malformed client_id');
    const command: ClientHistoryRequest = {
      ...adminCommand(request),
      clientId: id,
      page: page(request),
    };
    const history = await this.rpc.request<ClientHistoryResponse>(
      Subjects.introspection.admin.clientHistory,
      command,
    );
    sendJson(reply, 200, history);
  }

  @Get('audit/tokens/:jti')
  @operation({
    id: 'showTokenTimeline',
    summary: "An access token's life as a page",
    html: true,
    errors: [404],
  })
  @pathParameter('jti', 'the access token id', '^[A-Za-z0-9_-]{1,128}$')
  async tokenTimeline(@Param('jti') jti: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(jti)) throw invalidRequest('malformed jti');
    const admin = adminCommand(request);
    const state = await this.rpc.request<TokenAsOfResponse>(Subjects.introspection.admin.tokenAsOf, {
      ...admin,
      id: jti,
    } satisfies AsOfRequest);
    const events = await this.allPages((after) =>
      this.rpc.request<TokenHistoryResponse>(Subjects.introspection.admin.tokenHistory, {
        ...admin,
        jti,
        page: { limit: 500, after },
      } satisfies TokenHistoryRequest),
    );
    await sendPage(reply, {
      title: `Access token ${jti}`,
      facts: [
        ['status', state.status],
        ['client', state.clientId],
        ['subject', state.sub],
        ['scope', state.scope.join(' ')],
        ['audience', state.aud.join(' ')],
        ['issued', new Date(state.iat * 1000).toISOString()],
        ['expires', new Date(state.exp * 1000).toISOString()],
        ...(state.revokedAt ? ([['revoked', state.revokedAt]] as [string, string][]) : []),
      ],
      entries: events.map(timelineEntry),
    });
  }

  @Get('audit/clients/:id')
  @operation({ id: 'showClientTimeline', summary: "A client's life as a page", html: true, errors: [404] })
  @pathParameter('id', 'client_id', '^[A-Za-z0-9._~-]{1,128}$')
  async clientTimeline(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!ID.test(id)) throw invalidRequest('malformed client_id');
    const admin = adminCommand(request);
    const { client } = await this.rpc.request<ClientAsOfResponse>(Subjects.introspection.admin.clientAsOf, {
      ...admin,
      id,
    } satisfies AsOfRequest);
    const events = await this.allPages((after) =>
      this.rpc.request<ClientHistoryResponse>(Subjects.introspection.admin.clientHistory, {
        ...admin,
        clientId: id,
        page: { limit: 500, after },
      } satisfies ClientHistoryRequest),
    );
    await sendPage(reply, {
      title: `Client ${client.clientName} (${client.clientId})`,
      facts: [
        ['status', client.status],
        ['authentication', client.tokenEndpointAuthMethod],
        ['grants', client.grantTypes.join(' ')],
        ['scope', client.scope.join(' ')],
      ],
      entries: events.map(timelineEntry),
    });
  }

  private async allPages(
    fetchPage: (after: number | undefined) => Promise<{ events: AuditEvent[]; next: number | null }>,
  ): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    let after: number | undefined;
    do {
      const page = await fetchPage(after);
      events.push(...page.events);
      after = page.next ?? undefined;
    } while (after !== undefined && events.length < TIMELINE_MAX_EVENTS);
    return events;
  }
}

export async function sendPage(reply: FastifyReply, page: TimelinePage): Promise<void> {
  const { template, data } = timelineView(page);
  const body = await reply.viewAsync(template, data);
  void noStore(reply)
    .header('Content-Security-Policy', AUDIT_PAGE_CSP)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .status(200)
    .type('text/html; charset=utf-8')
    .send(body);
}
