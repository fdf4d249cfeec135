import { type RecordedEvent } from '../event-store.js';

/**
 * Retention by archiving (docs/retention.md): a stream is archived whole, some days after it is
 * closed, i.e. after nothing it records can still be used. Which streams close, and when, is read
 * from their own events; a category without a rule is kept for ever.
 */

export type RetentionCategory = 'access-token' | 'grant' | 'session' | 'user';

/** Days a closed stream is kept, per category. */
export interface RetentionPolicy {
  accessTokenDays: number;
  grantDays: number;
  sessionDays: number;
  /** Days an erased user's history is kept after the erasure (GDPR Art. 17; the account no longer lives). */
  userDays: number;
}

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = {
  accessTokenDays: 90,
  grantDays: 90,
  sessionDays: 30,
  userDays: 30,
};

/** Stream id prefixes the policy knows, with the category each names. */
export const RETENTION_PREFIXES: readonly [string, RetentionCategory][] = [
  ['access-token-', 'access-token'],
  ['grant-', 'grant'],
  ['session-', 'session'],
  ['user-', 'user'],
];

export function retentionCategory(streamId: string): RetentionCategory | null {
  for (const [prefix, category] of RETENTION_PREFIXES) if (streamId.startsWith(prefix)) return category;
  return null;
}

const DAY_MS = 86_400_000;

function retentionDays(category: RetentionCategory, policy: RetentionPolicy): number {
  switch (category) {
    case 'access-token':
      return policy.accessTokenDays;
    case 'grant':
      return policy.grantDays;
    case 'session':
      return policy.sessionDays;
    case 'user':
      return policy.userDays;
  }
}

type Data = Record<string, unknown>;

function instant(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * A client-credentials access token closes at its `exp` (RFC 9068 §2.2.1: it is refused after it).
 * Tokens issued from a user's grant stay with that grant's history and are kept (none closes here).
 */
function accessTokenClosedAt(events: readonly RecordedEvent[]): number | null {
  const issued = events.find((e) => e.type === 'AccessTokenIssued');
  if (!issued) return null;
  const data = issued.data as Data;
  if (data.grantType !== 'client_credentials' || typeof data.exp !== 'number') return null;
  return data.exp * 1000;
}

/**
 * A grant closes when it is revoked (RFC 7009 §2.1: its tokens are revoked with it), or else when the
 * last thing issued from it has expired: its authorization code (RFC 6749 §4.1.2) and its refresh
 * tokens (the latest expiry of a rotation, and the family's absolute expiry).
 */
function grantClosedAt(events: readonly RecordedEvent[]): number | null {
  let latest: number | null = null;
  for (const e of events) {
    const data = e.data as Data;
    if (e.type === 'GrantRevoked') return instant(data.at) ?? e.recordedAt.getTime();
    const expiries =
      e.type === 'AuthorizationCodeIssued'
        ? [data.expiresAt]
        : e.type === 'RefreshTokenIssued'
          ? [data.expiresAt, data.familyExpiresAt]
          : e.type === 'RefreshTokenRotated'
            ? [data.expiresAt]
            : [];
    for (const value of expiries) {
      const at = instant(value);
      if (at !== null && (latest === null || at > latest)) latest = at;
    }
  }
  return latest;
}

/** A session closes when it ends (logout, revocation) or at the expiry fixed when it started. */
function sessionClosedAt(events: readonly RecordedEvent[]): number | null {
  let expires: number | null = null;
  for (const e of events) {
    const data = e.data as Data;
    if (e.type === 'SessionEnded') return instant(data.endedAt) ?? e.recordedAt.getTime();
    if (e.type === 'SessionStarted') expires = instant(data.expiresAt);
  }
  return expires;
}

/**
 * A user's history closes when the user is erased: the account no longer lives, and its personal
 * fields no longer open (docs/privacy-and-retention.md). The username index stream stays, so the
 * name stays reserved.
 */
function userClosedAt(events: readonly RecordedEvent[]): number | null {
  const erased = events.find((e) => e.type === 'UserErased');
  return erased ? (instant((erased.data as Data).erasedAt) ?? erased.recordedAt.getTime()) : null;
}

/** When the stream closed (ms since the epoch), or null: still open, or a category kept for ever. */
export function streamClosedAt(streamId: string, events: readonly RecordedEvent[]): number | null {
  switch (retentionCategory(streamId)) {
    case 'access-token':
      return accessTokenClosedAt(events);
    case 'grant':
      return grantClosedAt(events);
    case 'session':
      return sessionClosedAt(events);
    case 'user':
      return userClosedAt(events);
    case null:
      return null;
  }
}

/** The instant from which the stream may be archived, or null: never. */
export function archivableFrom(
  streamId: string,
  events: readonly RecordedEvent[],
  policy: RetentionPolicy,
): number | null {
  const category = retentionCategory(streamId);
  if (category === null || events.length === 0) return null;
  const closed = streamClosedAt(streamId, events);
  if (closed === null) return null;
  // A stream is archived whole: an event recorded after it closed (a late revocation) moves the date.
  const last = events[events.length - 1]!.recordedAt.getTime();
  return Math.max(closed, last) + retentionDays(category, policy) * DAY_MS;
}

export function isArchivable(
  streamId: string,
  events: readonly RecordedEvent[],
  policy: RetentionPolicy,
  now: number,
): boolean {
  const from = archivableFrom(streamId, events, policy);
  return from !== null && from <= now;
}

/**
 * The latest instant a stream archivable at `now` can have started: every rule closes a stream at
 * or after its first event, so a stream that started later is not closed long enough under any
 * category (the candidates' query bound).
 */
export function latestArchivableStart(policy: RetentionPolicy, now: number): number {
  const shortest = Math.min(policy.accessTokenDays, policy.grantDays, policy.sessionDays, policy.userDays);
  return now - shortest * DAY_MS;
}
