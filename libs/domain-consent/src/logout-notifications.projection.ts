import type { Projection, RecordedEvent } from '#lib/event-store';
import type { LogoutNotificationEvent } from './logout-notification.js';
import type { SessionEnded } from './session.js';

/**
 * The `logout-notifications` read model: per ended session with Back-Channel Logout 1.0 deliveries
 * still to make, when each client is next due (an attempt in flight: when it counts as lost). The
 * sender reads it to find work; the session stream stays the truth (every attempt is decided on
 * the stream). A row goes once every client is delivered or given up.
 */
export const LOGOUT_NOTIFICATIONS = 'logout-notifications';

export interface LogoutNotificationsRow {
  sid: string;
  /** The earliest of `clients`: rows are found by it. */
  dueAt: string;
  /** ISO instants, by client id. */
  clients: Record<string, string>;
}

type Folded = SessionEnded | LogoutNotificationEvent;
const TYPES: readonly Folded['type'][] = [
  'SessionEnded',
  'LogoutNotificationSent',
  'LogoutNotificationDelivered',
  'LogoutNotificationFailed',
];

export const logoutNotificationsProjection: Projection<LogoutNotificationsRow> = {
  name: LOGOUT_NOTIFICATIONS,
  eventTypes: TYPES,
  keyOf(event: RecordedEvent) {
    if (!(TYPES as readonly string[]).includes(event.type)) return null;
    const sid = (event.data as { sid?: unknown }).sid;
    return typeof sid === 'string' ? sid : null;
  },
  evolve(row, event) {
    const e = event as unknown as Folded;
    if (e.type === 'SessionEnded') {
      const clients = Object.fromEntries((e.data.logoutNotifications ?? []).map((c) => [c, e.data.endedAt]));
      return withDue(e.data.sid, clients);
    }
    if (row === null || row.clients[e.data.clientId] === undefined) return row;
    const clients = { ...row.clients };
    if (e.type === 'LogoutNotificationSent') clients[e.data.clientId] = e.data.outcomeBy;
    else if (e.type === 'LogoutNotificationFailed' && e.data.retryAt !== undefined)
      clients[e.data.clientId] = e.data.retryAt;
    else delete clients[e.data.clientId];
    return withDue(row.sid, clients);
  },
};

function withDue(sid: string, clients: Record<string, string>): LogoutNotificationsRow | null {
  const due = Object.values(clients).sort();
  return due.length === 0 ? null : { sid, dueAt: due[0]!, clients };
}

/** The clients of a row due at `now`. */
export function dueClients(row: LogoutNotificationsRow, now: Date): string[] {
  const at = now.toISOString();
  return Object.entries(row.clients)
    .filter(([, due]) => due <= at)
    .map(([clientId]) => clientId);
}
