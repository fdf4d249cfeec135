import type { Projection, RecordedEvent } from '#lib/event-store';
import { type SessionLifecycleEvent, type UserAgentFacts } from './session.js';

/**
 * The `user-sessions` read model: per sub, the user's sessions that have not ended (expired ones
 * stay until read: the reader drops those past `expiresAt`), for the account page and the admin
 * API. The session streams stay the truth: a session is used only after its stream is read.
 */
export const USER_SESSIONS = 'user-sessions';

export interface SessionSummary {
  sid: string;
  authTime: string;
  amr: string[];
  acr: string;
  userAgent: UserAgentFacts;
  startedAt: string;
  lastUsedAt: string;
  expiresAt: string;
  clients: string[];
}

export interface UserSessionsRow {
  sub: string;
  sessions: Record<string, SessionSummary>;
}

const TYPES: readonly (SessionLifecycleEvent['type'] | 'UserErased')[] = [
  'SessionStarted',
  'SessionExtended',
  'SessionClientAuthorized',
  'SessionEnded',
  'UserErased',
];

export const userSessionsProjection: Projection<UserSessionsRow> = {
  name: USER_SESSIONS,
  eventTypes: TYPES,
  keyOf(event: RecordedEvent) {
    if (!(TYPES as readonly string[]).includes(event.type)) return null;
    const sub = (event.data as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : null;
  },
  evolve(row, event) {
    // An erased user's row goes: its sessions have ended, and their device facts are personal data.
    if (event.type === 'UserErased') return null;
    const e = event as unknown as SessionLifecycleEvent;
    const current: UserSessionsRow = row ?? { sub: e.data.sub, sessions: {} };
    const held = current.sessions[e.data.sid];
    switch (e.type) {
      case 'SessionStarted': {
        const { sid, authTime, amr, acr, userAgent, startedAt, expiresAt } = e.data;
        const summary = { sid, authTime, amr, acr, userAgent, startedAt, expiresAt };
        return {
          ...current,
          sessions: { ...current.sessions, [sid]: { ...summary, lastUsedAt: startedAt, clients: [] } },
        };
      }
      case 'SessionExtended':
        if (held === undefined) return current;
        return {
          ...current,
          sessions: { ...current.sessions, [held.sid]: { ...held, lastUsedAt: e.data.usedAt } },
        };
      case 'SessionClientAuthorized':
        if (held === undefined || held.clients.includes(e.data.clientId)) return current;
        return {
          ...current,
          sessions: {
            ...current.sessions,
            [held.sid]: { ...held, clients: [...held.clients, e.data.clientId], lastUsedAt: e.data.at },
          },
        };
      case 'SessionEnded': {
        const sessions = { ...current.sessions };
        delete sessions[e.data.sid];
        return { ...current, sessions };
      }
      default:
        return current;
    }
  },
};

/** The sessions of a row that stand at `now`, most recently used first. */
export function activeSessions(row: UserSessionsRow | null, now: Date): SessionSummary[] {
  return Object.values(row?.sessions ?? {})
    .filter((s) => Date.parse(s.expiresAt) > now.getTime())
    .sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt) || a.sid.localeCompare(b.sid));
}
