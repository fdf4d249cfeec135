import type { Projection, RecordedEvent } from '#lib/event-store';
import type { ConsentEvent } from '#lib/domain-consent';
import type { AuthorizationCodeIssued } from '#lib/domain-grant';
import { ERASED } from '#lib/personal-data';
import type { UserEvent } from './user.js';

/** The `users` read model: one row per sub, for lists (never the password hash). */
export const USERS = 'users';

export interface UserRow {
  sub: string;
  username: string;
  email?: string;
  name?: string;
  status: 'active' | 'disabled' | 'erased';
  createdAt: string;
}

const USER_STATUS_EVENTS: readonly string[] = ['UserCreated', 'UserDisabled', 'UserEnabled', 'UserErased'];
const USER_GRANT_EVENTS: readonly string[] = ['ConsentGranted', 'ConsentRevoked', 'AuthorizationCodeIssued'];

export const usersProjection: Projection<UserRow> = {
  name: USERS,
  eventTypes: USER_STATUS_EVENTS,
  keyOf(event: RecordedEvent) {
    if (!USER_STATUS_EVENTS.includes(event.type)) return null;
    return (event.data as { sub: string }).sub;
  },
  evolve(row, event) {
    const e = event as unknown as UserEvent;
    switch (e.type) {
      case 'UserCreated':
        return {
          sub: e.data.sub,
          username: e.data.username,
          ...(e.data.email !== undefined ? { email: e.data.email } : {}),
          ...(e.data.name !== undefined ? { name: e.data.name } : {}),
          status: 'active',
          createdAt: e.data.createdAt,
        };
      case 'UserDisabled':
        return row && { ...row, status: 'disabled' };
      case 'UserEnabled':
        return row && { ...row, status: 'active' };
      case 'UserErased':
        // The row stays for the pseudonymous sub; nothing that names the person does.
        return row && { sub: row.sub, username: ERASED, status: 'erased', createdAt: row.createdAt };
      default:
        return row;
    }
  },
};

/**
 * The `user-grants` read model: per sub, the remembered consents (client → scope) and the grants
 * issued to the user, so that revoking a consent or disabling a user finds the grants to revoke.
 * Revoked grants stay listed: revoking a revoked grant records nothing.
 */
export const USER_GRANTS = 'user-grants';

export interface UserGrantsRow {
  sub: string;
  consents: Record<string, { scope: string[]; grantedAt: string }>;
  grants: { grantId: string; clientId: string }[];
}

export const userGrantsProjection: Projection<UserGrantsRow> = {
  name: USER_GRANTS,
  eventTypes: USER_GRANT_EVENTS,
  keyOf(event: RecordedEvent) {
    if (!USER_GRANT_EVENTS.includes(event.type)) return null;
    const sub = (event.data as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : null;
  },
  evolve(row, event) {
    const e = event as unknown as ConsentEvent | AuthorizationCodeIssued;
    const current: UserGrantsRow = row ?? {
      sub: (e.data as { sub: string }).sub,
      consents: {},
      grants: [],
    };
    switch (e.type) {
      case 'ConsentGranted':
        return {
          ...current,
          consents: {
            ...current.consents,
            [e.data.clientId]: { scope: e.data.scope, grantedAt: e.data.grantedAt },
          },
        };
      case 'ConsentRevoked': {
        const consents = { ...current.consents };
        delete consents[e.data.clientId];
        return { ...current, consents };
      }
      case 'AuthorizationCodeIssued':
        return {
          ...current,
          grants: [...current.grants, { grantId: e.data.grantId, clientId: e.data.clientId }],
        };
      default:
        return current;
    }
  },
};
