import type { GrantAsOfResponse } from '#lib/contracts';
import { GRANT_FOLD, grantStreamId } from '#lib/domain-grant';
import { type AuditQuery, type RecordedEvent, foldEvents } from '#lib/event-store';
import { accessTokenStreamId } from './access-token.js';

/**
 * The audit API's grant and user views (docs/events.md "Audit API"): which events make up a
 * history, and what a grant looked like at an instant. Pure; the introspection service runs them.
 */

type Criteria = Omit<AuditQuery, 'limit' | 'after' | 'from' | 'to'>;

/** The streams a grant or a user's events start: the grant streams and the access-token streams. */
const startedStreams = (field: string, value: string): Criteria['streamsNamedBy'] => ({
  field,
  value,
  streams: [
    { type: 'AuthorizationCodeIssued', prefix: grantStreamId(''), idField: 'grantId' },
    { type: 'AccessTokenIssued', prefix: accessTokenStreamId(''), idField: 'jti' },
  ],
});

/**
 * A grant's history: its stream (code, redemption, rotations, reuse, revocation), the access tokens
 * issued from it with their own streams (a revocation through /revoke), and the consent decisions
 * of its user for its client (consent events carry sub and clientId).
 */
export function grantHistoryCriteria(
  grantId: string,
  owner: { sub: string; clientId: string } | null,
): Criteria {
  return {
    streamIds: [grantStreamId(grantId)],
    streamsNamedBy: startedStreams('grantId', grantId),
    ...(owner
      ? {
          dataAll: {
            fields: { sub: owner.sub, clientId: owner.clientId },
            excludeStreamPrefixes: [grantStreamId(''), accessTokenStreamId('')],
          },
        }
      : {}),
  };
}

/** Resource owners' streams (the consent service's `user-<sub>`). */
export const userStreamId = (sub: string) => `user-${sub}`;

/**
 * A user's history: every event naming the user (`data.sub`: consents, codes, access tokens, their
 * account), their own stream, and every event of their grants and access tokens.
 */
export function userHistoryCriteria(sub: string): Criteria {
  return {
    streamIds: [userStreamId(sub)],
    dataEquals: { field: 'sub', value: sub },
    streamsNamedBy: startedStreams('sub', sub),
  };
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** The access tokens a grant's events issued, in order (the grant's state only counts them). */
export function accessTokenJtisOf(events: readonly RecordedEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === 'AuthorizationCodeRedeemed' || e.type === 'RefreshTokenRotated'
      ? [(e.data as { accessTokenJti: string }).accessTokenJti]
      : [],
  );
}

/**
 * A grant at `asOf` (its stream replayed up to it, `events`); null when it did not exist yet. No hash
 * is shown.
 */
export function grantAsOfView(events: readonly RecordedEvent[], asOf: Date): GrantAsOfResponse | null {
  const state = foldEvents(GRANT_FOLD, events);
  const position = events[events.length - 1]?.globalPosition ?? 0;
  if (state.status === 'none') return null;
  const { grant } = state;
  const now = Math.floor(asOf.getTime() / 1000);
  const base = {
    grantId: grant.grantId,
    asOf: asOf.toISOString(),
    clientId: grant.clientId,
    sub: grant.sub,
    ...(grant.username !== undefined ? { username: grant.username } : {}),
    scope: grant.scope,
    resource: grant.resource,
    authTime: grant.authTime,
    codeExpiresAt: iso(grant.codeExpiresAt),
    position,
  };
  switch (state.status) {
    case 'code_issued':
      return {
        ...base,
        status: now >= grant.codeExpiresAt ? 'expired' : 'code_issued',
        accessTokenJtis: [],
      };
    case 'active': {
      const family = state.family;
      const expired = family !== null && (now >= family.expiresAt || now >= family.familyExpiresAt);
      return {
        ...base,
        status: expired ? 'expired' : 'active',
        ...(family
          ? {
              refresh: {
                generation: family.generation,
                scope: family.scope,
                expiresAt: iso(family.expiresAt),
                familyExpiresAt: iso(family.familyExpiresAt),
              },
            }
          : {}),
        accessTokenJtis: accessTokenJtisOf(events),
      };
    }
    case 'revoked':
      return {
        ...base,
        status: 'revoked',
        accessTokenJtis: accessTokenJtisOf(events),
        revocationReason: state.reason,
      };
    default: {
      const unknown: never = state;
      void unknown;
      return null;
    }
  }
}
