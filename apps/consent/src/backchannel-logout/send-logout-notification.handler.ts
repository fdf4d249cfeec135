import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { BackchannelLogoutConfig, OutboundConfig } from '#lib/config';
import { BACKCHANNEL_LOGOUT_MAX_DELAY_MS } from '#lib/config';
import { type IssueLogoutTokenResponse, Subjects } from '#lib/contracts';
import type { ClientViews } from '#lib/domain-client';
import type { DeliveryOutcome, LogoutRetryPolicy, SessionCommand } from '#lib/domain-consent';
import { createOutboundFetch, type OutboundFetch, OutboundRefused } from '#lib/outbound-guard';
import {
  BACKCHANNEL_LOGOUT_CONFIG,
  CLOCK,
  type Clock,
  describeError,
  ID_GENERATOR,
  type IdGenerator,
  metrics,
  type RpcClient,
} from '#lib/service-runtime';
import { CLIENT_VIEWS, SERVICE_RPC } from '../consent.tokens.js';
import { SessionRepository } from '../sessions/session-repository.js';

const SYSTEM = { actor: 'system', context: {} };
/**
 * An attempt (signing over NATS, then the POST) with no outcome recorded after twice the outbound
 * timeout and this slack counts as lost: its sender stopped. A slower attempt may then be made twice;
 * a session is logged out at the RP once, however many logout tokens name it.
 */
const OUTCOME_SLACK_MS = 5000;

/**
 * One Back-Channel Logout 1.0 delivery to one client of an ended session: the attempt recorded
 * (LogoutNotificationSent, with the logout token's jti) before the token is signed by the token
 * service and POSTed as `logout_token` (§2.5) through the outbound guard; then its outcome. The
 * client's current registration is read at each attempt: a withdrawn backchannel_logout_uri or an
 * inactive client ends the deliveries.
 */
@Injectable()
export class SendLogoutNotificationHandler implements OnModuleDestroy {
  private readonly outbound: OutboundFetch;
  private readonly policy: LogoutRetryPolicy;

  constructor(
    @Inject(BACKCHANNEL_LOGOUT_CONFIG) private readonly config: BackchannelLogoutConfig & OutboundConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    @Inject(CLIENT_VIEWS) private readonly clients: ClientViews,
    private readonly sessions: SessionRepository,
  ) {
    this.outbound = createOutboundFetch({
      allow: config.outboundAllow,
      timeoutMs: config.outboundTimeoutMs,
      maxResponseBytes: config.outboundMaxBytes,
    });
    this.policy = {
      maxAttempts: config.backchannelLogoutMaxAttempts,
      baseDelayMs: config.backchannelLogoutRetryBaseMs,
      maxDelayMs: BACKCHANNEL_LOGOUT_MAX_DELAY_MS,
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.outbound.close();
  }

  async deliver(sid: string, clientId: string): Promise<void> {
    const { state } = await this.sessions.load(sid);
    if (state.status !== 'ended' || state.notifications[clientId]?.status !== 'pending') return;
    const client = await this.clients.view(clientId);
    const uri = client?.status === 'active' ? client.backchannelLogoutUri : undefined;
    if (uri === undefined) {
      const reason = 'the client is not active or has no backchannel_logout_uri';
      await this.record(sid, { type: 'AbandonLogoutNotification', clientId, reason, now: this.clock() });
      return;
    }
    const jti = this.ids();
    const sent = await this.sessions.tryChange(
      sid,
      {
        type: 'SendLogoutNotification',
        clientId,
        jti,
        uri,
        outcomeWithinMs: OUTCOME_SLACK_MS + 2 * this.config.outboundTimeoutMs,
        policy: this.policy,
        now: this.clock(),
      },
      SYSTEM,
    );
    const attempt = sent?.find((e) => e.type === 'LogoutNotificationSent');
    if (attempt === undefined) return;
    const outcome = await this.attempt(uri, { sid, sub: state.sub, clientId, jti });
    await this.record(sid, {
      type: 'RecordLogoutNotification',
      clientId,
      attempt: (attempt.data as { attempt: number }).attempt,
      outcome,
      policy: this.policy,
      now: this.clock(),
    });
  }

  private async attempt(
    uri: string,
    token: { sid: string; sub: string; clientId: string; jti: string },
  ): Promise<DeliveryOutcome> {
    let logoutToken: string;
    try {
      ({ logoutToken } = await this.rpc.request<IssueLogoutTokenResponse>(Subjects.token.issueLogoutToken, {
        context: {},
        ...token,
      }));
    } catch (err) {
      return { error: `logout token not signed: ${describeError(err)}`, retryable: true };
    }
    try {
      const res = await this.outbound(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: logoutToken }).toString(),
      });
      return { status: res.status };
    } catch (err) {
      // RFC 9700 §4.16: a refused address stays refused; a network failure may pass.
      return { error: describeError(err), retryable: !(err instanceof OutboundRefused) };
    }
  }

  private async record(sid: string, command: SessionCommand): Promise<void> {
    const events = await this.sessions.tryChange(sid, command, SYSTEM);
    for (const e of events ?? []) {
      const retry = (e.data as { retryAt?: string }).retryAt !== undefined;
      if (e.type === 'LogoutNotificationDelivered') metrics.logoutNotifications.inc({ outcome: 'delivered' });
      if (e.type === 'LogoutNotificationFailed')
        metrics.logoutNotifications.inc({ outcome: retry ? 'retry' : 'failed' });
    }
  }
}
