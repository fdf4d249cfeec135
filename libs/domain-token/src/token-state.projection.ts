import type { GrantEvent } from '#lib/domain-grant';
import type { Projection, RecordedEvent } from '#lib/event-store';
import { accessTokenStreamId, type AccessTokenEvent } from './access-token.js';

/**
 * token_state: the current state of every access token, keyed by jti; what introspection
 * (RFC 7662) answers from. It is fed from the event stream, so it folds only published fields
 * (libs/contracts `PUBLISHED_EVENTS`): the username, personal data, is not one; introspection
 * reads it from the token's AccessTokenIssued in the store.
 */
export interface TokenStateRow {
  jti: string;
  clientId: string;
  sub: string;
  aud: string[];
  scope: string[];
  grantType: string;
  /** The grant (authorization code, refresh token) the token came from: revoked with it. */
  grantId?: string;
  iat: number;
  exp: number;
  status: 'active' | 'revoked';
  revokedAt?: string;
  issuedAtPosition: number;
}

export const TOKEN_STATE = 'token_state';

export const tokenStateProjection: Projection<TokenStateRow> = {
  name: TOKEN_STATE,
  eventTypes: ['AccessTokenIssued', 'AccessTokenRevoked'],
  keyOf(event: RecordedEvent): string | null {
    const e = event as unknown as AccessTokenEvent;
    switch (e.type) {
      case 'AccessTokenIssued':
      case 'AccessTokenRevoked':
        return e.data.jti;
      default:
        return null;
    }
  },
  // Every event keyed by a jti is in that token's stream, and the first one starts the row.
  startsRow: (event: RecordedEvent) =>
    event.type === 'AccessTokenIssued' &&
    event.streamVersion === 1 &&
    event.streamId === accessTokenStreamId((event as unknown as AccessTokenEvent).data.jti),
  // A token (and its denylist entry) matters until its exp (RFC 7662 §2.2: then inactive anyway); then the
  // row goes.
  expiresAt: (row: TokenStateRow) => row.exp * 1000,
  evolve(row: TokenStateRow | null, event: RecordedEvent): TokenStateRow | null {
    const e = event as unknown as AccessTokenEvent;
    switch (e.type) {
      case 'AccessTokenIssued':
        // A jti is issued once: a row that exists already saw this event (redelivery), and
        // re-applying it must not turn a revoked token active again.
        if (row !== null) return row;
        return {
          jti: e.data.jti,
          clientId: e.data.clientId,
          sub: e.data.sub,
          aud: e.data.aud,
          scope: e.data.scope,
          grantType: e.data.grantType,
          ...(e.data.grantId !== undefined ? { grantId: e.data.grantId } : {}),
          iat: e.data.iat,
          exp: e.data.exp,
          status: 'active',
          issuedAtPosition: event.globalPosition,
        };
      case 'AccessTokenRevoked':
        return row === null ? null : { ...row, status: 'revoked', revokedAt: e.data.revokedAt };
      default: {
        const unknown: never = e;
        void unknown;
        return row;
      }
    }
  },
};

/**
 * grant_state: whether each grant is revoked, keyed by grantId. A GrantRevoked revokes every access
 * token issued from the grant (RFC 7009 §2.1, RFC 9700 §4.14.2): a token_state row with that grantId
 * reads as revoked (`effectiveTokenState`). The row lives as long as anything issued from the grant
 * can (the code, its access tokens, the refresh family), then goes.
 */
export interface GrantStateRow {
  grantId: string;
  status: 'active' | 'revoked';
  /** Seconds since the epoch: the last instant anything issued from this grant is valid. */
  expiresAt: number;
  revokedAt?: string;
  reason?: string;
  /** OpenID Connect Core §5.5: the claim names the grant's request asked for at UserInfo. */
  userinfoClaims?: string[];
}

export const GRANT_STATE = 'grant_state';

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const later = (row: GrantStateRow | null, grantId: string, until: number): GrantStateRow =>
  row === null
    ? { grantId, status: 'active', expiresAt: until }
    : { ...row, expiresAt: Math.max(row.expiresAt, until) };

export const grantStateProjection: Projection<GrantStateRow> = {
  name: GRANT_STATE,
  eventTypes: [
    'AuthorizationCodeIssued',
    'RefreshTokenIssued',
    'RefreshTokenRotated',
    'GrantRevoked',
    'AccessTokenIssued',
  ],
  keyOf(event: RecordedEvent): string | null {
    const e = event as unknown as GrantEvent | AccessTokenEvent;
    switch (e.type) {
      case 'AuthorizationCodeIssued':
      case 'RefreshTokenIssued':
      case 'RefreshTokenRotated':
      case 'GrantRevoked':
        return e.data.grantId;
      case 'AccessTokenIssued':
        return e.data.grantId ?? null;
      default:
        return null;
    }
  },
  expiresAt: (row: GrantStateRow) => row.expiresAt * 1000,
  evolve(row: GrantStateRow | null, event: RecordedEvent): GrantStateRow | null {
    const e = event as unknown as GrantEvent | AccessTokenEvent;
    switch (e.type) {
      case 'AuthorizationCodeIssued': {
        const grant = later(row, e.data.grantId, seconds(e.data.expiresAt));
        const requested = e.data.claims?.userinfo ?? [];
        return requested.length > 0 ? { ...grant, userinfoClaims: requested } : grant;
      }
      case 'RefreshTokenIssued':
        return later(row, e.data.grantId, seconds(e.data.familyExpiresAt));
      case 'RefreshTokenRotated':
        return later(row, e.data.grantId, seconds(e.data.expiresAt));
      case 'AccessTokenIssued':
        return e.data.grantId === undefined ? row : later(row, e.data.grantId, e.data.exp);
      case 'GrantRevoked':
        // Nothing of a grant whose row has expired is valid any more: nothing to revoke.
        if (row === null || row.status === 'revoked') return row;
        return { ...row, status: 'revoked', revokedAt: e.data.at, reason: e.data.reason };
      default:
        return row;
    }
  },
};

/** An access token's row as introspection sees it: revoked when its grant is. */
export function effectiveTokenState(
  token: TokenStateRow | null,
  grant: GrantStateRow | null,
): TokenStateRow | null {
  if (token === null || token.status === 'revoked' || grant?.status !== 'revoked') return token;
  return { ...token, status: 'revoked', revokedAt: grant.revokedAt! };
}
