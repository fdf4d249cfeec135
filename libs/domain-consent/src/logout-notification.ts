import { accept, type Decision, type Recorded, refuse } from '#lib/decider';
import { OAuthError } from '#lib/oauth-errors';

/**
 * OpenID Connect Back-Channel Logout 1.0 deliveries, recorded in the ended session's own stream
 * (`session-<sid>`, owned by the consent service), so that "was each client told of the logout" is
 * answered from the session's history. Which clients are told is fixed when the session ends
 * (`SessionEnded.data.logoutNotifications`: the clients the session signed in to that registered a
 * `backchannel_logout_uri`, §2.2). Each delivery attempt is `LogoutNotificationSent`, then
 * `LogoutNotificationDelivered` (§2.8: 200 OK, or 204) or `LogoutNotificationFailed` with the
 * status or the reason, and when the failure may pass, the instant of the next attempt: a bounded
 * number of attempts with exponential back-off (§2.8 leaves retries to the OP).
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> pending: SessionEnded
 *   pending --> inFlight: LogoutNotificationSent
 *   inFlight --> delivered: LogoutNotificationDelivered
 *   inFlight --> pending: LogoutNotificationFailed (retryAt)
 *   inFlight --> abandoned: LogoutNotificationFailed (no retryAt)
 *   pending --> abandoned: LogoutNotificationFailed (no retryAt)
 * ```
 */
export interface LogoutNotificationSent {
  type: 'LogoutNotificationSent';
  data: {
    sid: string;
    sub: string;
    clientId: string;
    attempt: number;
    /** The logout token's `jti` (§2.4), never the token. */
    jti: string;
    uri: string;
    sentAt: string;
    /** With no outcome recorded by then (the sender stopped), the attempt counts as failed. */
    outcomeBy: string;
  };
}
export interface LogoutNotificationDelivered {
  type: 'LogoutNotificationDelivered';
  data: { sid: string; sub: string; clientId: string; attempt: number; status: number; deliveredAt: string };
}
export interface LogoutNotificationFailed {
  type: 'LogoutNotificationFailed';
  data: {
    sid: string;
    sub: string;
    clientId: string;
    /** 0: failed before any attempt was sent. */
    attempt: number;
    /** The HTTP status the client answered with, when it answered. */
    status?: number;
    reason: string;
    failedAt: string;
    /** The next attempt's earliest instant; absent: no further attempt. */
    retryAt?: string;
  };
}

export type LogoutNotificationEvent =
  LogoutNotificationSent | LogoutNotificationDelivered | LogoutNotificationFailed;

export const LOGOUT_NOTIFICATION_EVENT_TYPES: readonly LogoutNotificationEvent['type'][] = [
  'LogoutNotificationSent',
  'LogoutNotificationDelivered',
  'LogoutNotificationFailed',
];

export interface LogoutNotificationState {
  status: 'pending' | 'delivered' | 'abandoned';
  /** Attempts sent. */
  attempts: number;
  /** ms since the epoch: the earliest next attempt while pending. */
  dueAt: number;
  inFlight?: { attempt: number; outcomeBy: number };
  lastStatus?: number;
  lastReason?: string;
}

export interface LogoutRetryPolicy {
  /** Attempts at most, the first one included. */
  maxAttempts: number;
  /** Delay before the second attempt; each further one doubles it. */
  baseDelayMs: number;
  /** The longest delay between two attempts. */
  maxDelayMs: number;
}

/** The ended session, as far as its logout notifications need it. */
export interface NotifiedSession {
  sid: string;
  sub: string;
  notifications: Record<string, LogoutNotificationState>;
}

export interface SendLogoutNotification {
  type: 'SendLogoutNotification';
  clientId: string;
  jti: string;
  uri: string;
  /** An attempt with no outcome recorded within this time counts as failed (the sender stopped). */
  outcomeWithinMs: number;
  policy: LogoutRetryPolicy;
  now: Date;
}
export type DeliveryOutcome = { status: number } | { error: string; retryable: boolean };
export interface RecordLogoutNotification {
  type: 'RecordLogoutNotification';
  clientId: string;
  attempt: number;
  outcome: DeliveryOutcome;
  policy: LogoutRetryPolicy;
  now: Date;
}
/** No attempt can be made (the client withdrew its backchannel_logout_uri, or was disabled). */
export interface AbandonLogoutNotification {
  type: 'AbandonLogoutNotification';
  clientId: string;
  reason: string;
  now: Date;
}

export type LogoutNotificationCommand =
  SendLogoutNotification | RecordLogoutNotification | AbandonLogoutNotification;

/** The notification is not due: delivered, abandoned, in flight, or waiting for its back-off. */
export class LogoutNotificationNotDue extends OAuthError {
  constructor(reason: string) {
    super('invalid_request', `no logout notification due: ${reason}`);
  }
}

/** Back-off before attempt `attempt + 1`: base × 2^(attempt − 1), at most maxDelayMs. */
export function retryDelayMs(attempt: number, policy: LogoutRetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/** §2.8: "the RP MUST respond with HTTP 200 OK" (and "OPs should be prepared to also process a 204"). */
const delivered = (status: number) => status === 200 || status === 204;
/** Worth another attempt: the RP or a proxy in front of it may recover (RFC 9110 §15.5.9, §15.6; RFC 6585 §4). */
const retryableStatus = (status: number) => status >= 500 || status === 408 || status === 429;

export function decideLogoutNotification(
  command: LogoutNotificationCommand,
  session: NotifiedSession,
): Decision {
  const held = session.notifications[command.clientId];
  if (held === undefined) return refuse(new LogoutNotificationNotDue('the client is not notified'));
  if (held.status !== 'pending') return refuse(new LogoutNotificationNotDue(held.status));
  const base = { sid: session.sid, sub: session.sub, clientId: command.clientId };
  const at = command.now.toISOString();
  switch (command.type) {
    case 'SendLogoutNotification': {
      const now = command.now.getTime();
      const events = [];
      if (held.inFlight !== undefined) {
        if (held.inFlight.outcomeBy > now) return refuse(new LogoutNotificationNotDue('in flight'));
        const lost = failure(base, held.inFlight.attempt, { error: 'no outcome recorded', retryable: true });
        const retry = nextAttempt(held.inFlight.attempt, command.policy, command.now);
        events.push(lost(at, retry));
        if (retry === undefined) return accept(events);
      } else if (held.dueAt > now) return refuse(new LogoutNotificationNotDue('waiting to retry'));
      const attempt = held.attempts + 1;
      events.push({
        type: 'LogoutNotificationSent',
        data: {
          ...base,
          attempt,
          jti: command.jti,
          uri: command.uri,
          sentAt: at,
          outcomeBy: new Date(now + command.outcomeWithinMs).toISOString(),
        },
      } satisfies LogoutNotificationSent);
      return accept(events);
    }
    case 'RecordLogoutNotification': {
      // A late outcome of an attempt already counted as lost changes nothing.
      if (held.inFlight?.attempt !== command.attempt) return accept([]);
      const outcome = command.outcome;
      if ('status' in outcome && delivered(outcome.status))
        return accept([
          {
            type: 'LogoutNotificationDelivered',
            data: { ...base, attempt: command.attempt, status: outcome.status, deliveredAt: at },
          } satisfies LogoutNotificationDelivered,
        ]);
      const retryable = 'status' in outcome ? retryableStatus(outcome.status) : outcome.retryable;
      const retry = retryable ? nextAttempt(command.attempt, command.policy, command.now) : undefined;
      return accept([failure(base, command.attempt, outcome)(at, retry)]);
    }
    case 'AbandonLogoutNotification':
      return accept([
        failure(base, held.inFlight?.attempt ?? 0, { error: command.reason, retryable: false })(
          at,
          undefined,
        ),
      ]);
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

function nextAttempt(attempt: number, policy: LogoutRetryPolicy, now: Date): string | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  return new Date(now.getTime() + retryDelayMs(attempt, policy)).toISOString();
}

function failure(
  base: { sid: string; sub: string; clientId: string },
  attempt: number,
  outcome: DeliveryOutcome,
) {
  return (failedAt: string, retryAt: string | undefined): LogoutNotificationFailed => ({
    type: 'LogoutNotificationFailed',
    data: {
      ...base,
      attempt,
      ...('status' in outcome
        ? { status: outcome.status, reason: `HTTP ${outcome.status}` }
        : { reason: outcome.error }),
      failedAt,
      ...(retryAt !== undefined ? { retryAt } : {}),
    },
  });
}

/** The notifications of a session that ends now: every listed client pending, due at once. */
export function pendingNotifications(
  clientIds: readonly string[] | undefined,
  endedAt: number,
): Record<string, LogoutNotificationState> {
  const out: Record<string, LogoutNotificationState> = {};
  for (const clientId of clientIds ?? []) out[clientId] = { status: 'pending', attempts: 0, dueAt: endedAt };
  return out;
}

export function evolveLogoutNotifications(
  notifications: Record<string, LogoutNotificationState>,
  e: Recorded<LogoutNotificationEvent>,
): Record<string, LogoutNotificationState> {
  const held = notifications[e.data.clientId];
  if (held === undefined) return notifications;
  let next: LogoutNotificationState;
  switch (e.type) {
    case 'LogoutNotificationSent':
      next = {
        ...held,
        attempts: e.data.attempt,
        inFlight: { attempt: e.data.attempt, outcomeBy: Date.parse(e.data.outcomeBy) },
      };
      break;
    case 'LogoutNotificationDelivered':
      next = { status: 'delivered', attempts: held.attempts, dueAt: held.dueAt, lastStatus: e.data.status };
      break;
    case 'LogoutNotificationFailed':
      next = {
        status: e.data.retryAt === undefined ? 'abandoned' : 'pending',
        attempts: held.attempts,
        dueAt: e.data.retryAt === undefined ? held.dueAt : Date.parse(e.data.retryAt),
        ...(e.data.status !== undefined ? { lastStatus: e.data.status } : {}),
        lastReason: e.data.reason,
      };
      break;
    default: {
      const unknown: never = e;
      void unknown;
      return notifications;
    }
  }
  return { ...notifications, [e.data.clientId]: next };
}

/** The audit view of a session's notifications (Back-Channel Logout 1.0 deliveries), by client. */
export function logoutNotificationsView(notifications: Record<string, LogoutNotificationState>) {
  return Object.entries(notifications).map(([clientId, n]) => ({
    clientId,
    status: n.inFlight !== undefined && n.status === 'pending' ? ('sending' as const) : n.status,
    attempts: n.attempts,
    ...(n.lastStatus !== undefined ? { lastStatus: n.lastStatus } : {}),
    ...(n.lastReason !== undefined ? { lastReason: n.lastReason } : {}),
  }));
}
