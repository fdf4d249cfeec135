import type { Projection, RecordedEvent } from '#lib/event-store';
import type { AccessTokenEvent } from './access-token.js';

/**
 * token_state: the current state of every access token, keyed by jti; what introspection
 * (RFC 7662) answers from.
 */
export interface TokenStateRow {
  jti: string;
  clientId: string;
  sub: string;
  aud: string[];
  scope: string[];
  grantType: string;
  iat: number;
  exp: number;
  status: 'active' | 'revoked';
  revokedAt?: string;
  issuedAtPosition: number;
}

export const TOKEN_STATE = 'token_state';

export const tokenStateProjection: Projection<TokenStateRow> = {
  name: TOKEN_STATE,
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
  // Decision 10: a token (and its denylist entry) matters until its exp; then the row goes.
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
