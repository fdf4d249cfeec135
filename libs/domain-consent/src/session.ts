import { accept, type Decider, type Decision, type Recorded, refuse } from '#lib/decider';
import { notFound, OAuthError } from '#lib/oauth-errors';
import {
  decideLogoutNotification,
  evolveLogoutNotifications,
  type LogoutNotificationCommand,
  type LogoutNotificationEvent,
  type LogoutNotificationState,
  logoutNotificationsView,
  pendingNotifications,
} from './logout-notification.js';
import type { PersonalFields } from '#lib/personal-data';

/**
 * A browser's login session, owned by the consent service: stream `session-<sid>`, where `sid` is
 * random and unguessable (OpenID Connect Front-Channel/Back-Channel Logout 1.0 `sid`). The browser
 * holds only the sid, sealed in its session cookie; the stream says whether the session still
 * stands, which clients it signed in to (the clients a logout must reach), and why it ended.
 * A new login is a new session: no session fixation (OWASP ASVS V3.2.1).
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> active: SessionStarted
 *   active --> active: SessionExtended, SessionClientAuthorized
 *   active --> ended: SessionEnded
 *   ended --> ended: LogoutNotificationSent, ...Delivered, ...Failed (logout-notification.ts)
 * ```
 */
export const sessionStreamId = (sid: string) => `session-${sid}`;

/** A sid: 22 to 64 base64url characters (the ones minted here are 256 random bits). */
export const SID = /^[A-Za-z0-9_-]{22,64}$/;

/** The user agent's coarse facts: a family and an OS, never the User-Agent string or the address. */
export interface UserAgentFacts {
  browser: string;
  os: string;
}

export type SessionEndReason =
  'logout' | 'user' | 'admin' | 'password-changed' | 'user-disabled' | 'user-erased' | 'expired' | 'replaced';

export interface SessionStarted {
  type: 'SessionStarted';
  data: {
    sid: string;
    sub: string;
    /** OpenID Connect Core §2 auth_time, as an ISO instant. */
    authTime: string;
    /** RFC 8176 authentication method references. */
    amr: string[];
    /** OpenID Connect Core §2 acr. */
    acr: string;
    userAgent: UserAgentFacts;
    startedAt: string;
    expiresAt: string;
  };
}
export interface SessionExtended {
  type: 'SessionExtended';
  data: { sid: string; sub: string; usedAt: string };
}
export interface SessionClientAuthorized {
  type: 'SessionClientAuthorized';
  data: { sid: string; sub: string; clientId: string; at: string };
}
export interface SessionEnded {
  type: 'SessionEnded';
  data: {
    sid: string;
    sub: string;
    reason: SessionEndReason;
    endedBy: string;
    endedAt: string;
    /**
     * The clients to tell by Back-Channel Logout 1.0 (§2.2: those the session signed in to that
     * registered a backchannel_logout_uri); absent: none.
     */
    logoutNotifications?: string[];
  };
}

export type SessionLifecycleEvent = SessionStarted | SessionExtended | SessionClientAuthorized | SessionEnded;
export type SessionEvent = SessionLifecycleEvent | LogoutNotificationEvent;

const sessionEventTypes: Record<SessionEvent['type'], true> = {
  SessionStarted: true,
  SessionExtended: true,
  SessionClientAuthorized: true,
  SessionEnded: true,
  LogoutNotificationSent: true,
  LogoutNotificationDelivered: true,
  LogoutNotificationFailed: true,
};
/** The personal fields of session events (a fact about the person's device), sealed under the user's data key. */
export const SESSION_PERSONAL_FIELDS: PersonalFields = {
  events: { SessionStarted: ['userAgent'] },
  snapshots: {},
};
/** Every event type of `session-*` streams. */
export const SESSION_EVENT_TYPES = Object.keys(sessionEventTypes) as readonly SessionEvent['type'][];

interface SessionFacts {
  sid: string;
  sub: string;
  /** ms since the epoch. */
  authTime: number;
  amr: string[];
  acr: string;
  userAgent: UserAgentFacts;
  startedAt: number;
  expiresAt: number;
  lastUsedAt: number;
  clients: string[];
}

export type SessionState =
  | { status: 'none' }
  | ({ status: 'active' } & SessionFacts)
  | ({
      status: 'ended';
      reason: SessionEndReason;
      endedAt: number;
      notifications: Record<string, LogoutNotificationState>;
    } & SessionFacts);

export const initialSessionState = (): SessionState => ({ status: 'none' });

export interface StartSession {
  type: 'StartSession';
  sid: string;
  sub: string;
  authTime: Date;
  amr: string[];
  acr: string;
  userAgent: UserAgentFacts;
  ttlSeconds: number;
  now: Date;
}
/** The session used for an authorization: the client recorded, the use recorded now and then. */
export interface UseSession {
  type: 'UseSession';
  clientId: string;
  /** A use is recorded (SessionExtended) when the last one is at least this old. */
  recordUseAfterSeconds: number;
  now: Date;
}
export interface EndSession {
  type: 'EndSession';
  reason: SessionEndReason;
  /** The verified actor: `user:<sub>`, `admin:<id>`, `system`. */
  endedBy: string;
  /** Those of the session's clients that registered a backchannel_logout_uri (Back-Channel Logout 1.0 §2.2). */
  logoutNotifications?: readonly string[];
  now: Date;
}

export type SessionCommand = StartSession | UseSession | EndSession | LogoutNotificationCommand;

/** The session has ended or expired: the browser must log in again. */
export class SessionNotActive extends OAuthError {
  constructor() {
    super('login_required', 'the session has ended', { status: 400 });
  }
}

export function decideSession(command: SessionCommand, state: SessionState): Decision {
  switch (command.type) {
    case 'StartSession': {
      if (state.status !== 'none') return refuse(new OAuthError('invalid_request', 'session exists'));
      const at = command.now.toISOString();
      return accept([
        {
          type: 'SessionStarted',
          data: {
            sid: command.sid,
            sub: command.sub,
            authTime: command.authTime.toISOString(),
            amr: command.amr,
            acr: command.acr,
            userAgent: command.userAgent,
            startedAt: at,
            expiresAt: new Date(command.now.getTime() + command.ttlSeconds * 1000).toISOString(),
          },
        } satisfies SessionStarted,
      ]);
    }
    case 'UseSession': {
      if (!isActive(state, command.now)) return refuse(new SessionNotActive());
      const { sid, sub } = state;
      const at = command.now.toISOString();
      const events = [];
      if (!state.clients.includes(command.clientId))
        events.push({
          type: 'SessionClientAuthorized',
          data: { sid, sub, clientId: command.clientId, at },
        } satisfies SessionClientAuthorized);
      if (command.now.getTime() - state.lastUsedAt >= command.recordUseAfterSeconds * 1000)
        events.push({ type: 'SessionExtended', data: { sid, sub, usedAt: at } } satisfies SessionExtended);
      return accept(events);
    }
    case 'EndSession': {
      if (state.status === 'none') return refuse(notFound('no such session'));
      if (state.status === 'ended') return accept([]);
      const notified = (command.logoutNotifications ?? []).filter((c) => state.clients.includes(c));
      return accept([
        {
          type: 'SessionEnded',
          data: {
            sid: state.sid,
            sub: state.sub,
            reason: command.reason,
            endedBy: command.endedBy,
            endedAt: command.now.toISOString(),
            ...(notified.length > 0 ? { logoutNotifications: [...new Set(notified)] } : {}),
          },
        } satisfies SessionEnded,
      ]);
    }
    case 'SendLogoutNotification':
    case 'RecordLogoutNotification':
    case 'AbandonLogoutNotification':
      if (state.status !== 'ended')
        return refuse(new OAuthError('invalid_request', 'the session has not ended'));
      return decideLogoutNotification(command, state);
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

export function evolveSession(state: SessionState, e: Recorded<SessionEvent>): SessionState {
  switch (e.type) {
    case 'SessionStarted': {
      const startedAt = Date.parse(e.data.startedAt);
      return {
        status: 'active',
        sid: e.data.sid,
        sub: e.data.sub,
        authTime: Date.parse(e.data.authTime),
        amr: e.data.amr,
        acr: e.data.acr,
        userAgent: e.data.userAgent,
        startedAt,
        expiresAt: Date.parse(e.data.expiresAt),
        lastUsedAt: startedAt,
        clients: [],
      };
    }
    case 'SessionExtended':
      return state.status === 'active' ? { ...state, lastUsedAt: Date.parse(e.data.usedAt) } : state;
    case 'SessionClientAuthorized':
      return state.status === 'active' && !state.clients.includes(e.data.clientId)
        ? { ...state, clients: [...state.clients, e.data.clientId] }
        : state;
    case 'SessionEnded': {
      if (state.status !== 'active') return state;
      const endedAt = Date.parse(e.data.endedAt);
      const notifications = pendingNotifications(e.data.logoutNotifications, endedAt);
      return { ...state, status: 'ended', reason: e.data.reason, endedAt, notifications };
    }
    case 'LogoutNotificationSent':
    case 'LogoutNotificationDelivered':
    case 'LogoutNotificationFailed':
      return state.status === 'ended'
        ? { ...state, notifications: evolveLogoutNotifications(state.notifications, e) }
        : state;
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}

/** Whether the session stands at `now`: started, not ended, not past its expiry. */
export function isActive(
  state: SessionState,
  now: Date,
): state is Extract<SessionState, { status: 'active' }> {
  return state.status === 'active' && state.expiresAt > now.getTime();
}

/** A session as the audit API shows it at `asOf` (null: no session then). */
export function sessionAsOfView(state: SessionState, asOf: Date) {
  if (state.status === 'none') return null;
  const iso = (ms: number) => new Date(ms).toISOString();
  const status: 'active' | 'ended' | 'expired' =
    state.status === 'ended' ? 'ended' : isActive(state, asOf) ? 'active' : 'expired';
  return {
    sid: state.sid,
    asOf: asOf.toISOString(),
    status,
    sub: state.sub,
    authTime: iso(state.authTime),
    amr: state.amr,
    acr: state.acr,
    userAgent: state.userAgent,
    startedAt: iso(state.startedAt),
    lastUsedAt: iso(state.lastUsedAt),
    expiresAt: iso(state.expiresAt),
    clients: state.clients,
    ...(state.status === 'ended' ? { endedAt: iso(state.endedAt), endReason: state.reason } : {}),
    ...(state.status === 'ended' && Object.keys(state.notifications).length > 0
      ? { logoutNotifications: logoutNotificationsView(state.notifications) }
      : {}),
  };
}

/** The session aggregate (`session-*` streams) as a decider. */
export const sessionDecider: Decider<SessionCommand, SessionEvent, SessionState> = {
  decide: decideSession,
  evolve: evolveSession,
  initialState: initialSessionState,
};

/** How `session-*` streams are folded. */
export const SESSION_FOLD = { evolve: evolveSession, initial: initialSessionState };

/**
 * The coarse facts of a User-Agent header: a browser family and an OS, for the user to recognise
 * a session by. Nothing more is kept (RFC 6973 §6.1, data minimization).
 */
export function userAgentFacts(header: string | undefined): UserAgentFacts {
  const ua = typeof header === 'string' ? header.slice(0, 512) : '';
  const browser = /Edg(e|A|iOS)?\//.test(ua)
    ? 'Edge'
    : /OPR\/|Opera/.test(ua)
      ? 'Opera'
      : /Firefox\/|FxiOS\//.test(ua)
        ? 'Firefox'
        : /Chrome\/|Chromium\/|CriOS\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua)
            ? 'Safari'
            : 'Other';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Android/.test(ua)
        ? 'Android'
        : /CrOS/.test(ua)
          ? 'ChromeOS'
          : /Mac OS X|Macintosh/.test(ua)
            ? 'macOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : 'Other';
  return { browser, os };
}
