import type { NewEvent, RecordedEvent } from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';

/**
 * The life of one access token, one stream per token: `access-token-<jti>`. The token itself is
 * never stored (STYLE.md habit 15); its jti identifies it.
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> active: AccessTokenIssued
 *   active --> revoked: AccessTokenRevoked
 *   revoked --> revoked: RevokeAccessToken (no event)
 * ```
 */
export const accessTokenStreamId = (jti: string) => `access-token-${jti}`;

export interface AccessTokenIssued {
  type: 'AccessTokenIssued';
  data: {
    jti: string;
    clientId: string;
    /** The user, or the client itself for client credentials (RFC 9068 §2.2). */
    sub: string;
    aud: string[];
    scope: string[];
    grantType: string;
    /** The grant (authorization_code, refresh_token) it came from; revoking the grant revokes it. */
    grantId?: string;
    /** The resource owner's login name (RFC 7662 `username`), when there is a user. */
    username?: string;
    /** Seconds since the epoch, as in the JWT. */
    iat: number;
    exp: number;
    kid: string;
  };
}

export interface AccessTokenRevoked {
  type: 'AccessTokenRevoked';
  data: { jti: string; revokedAt: string; revokedBy: string; reason: 'revocation_request' };
}

export type AccessTokenEvent = AccessTokenIssued | AccessTokenRevoked;

/**
 * Every event type of `access-token-*` streams (a Record over the union: a type added to the union
 * and not here does not compile; the published-events contract in libs/contracts is checked against
 * every `*_EVENT_TYPES` array).
 */
const accessTokenEventTypes: Record<AccessTokenEvent['type'], true> = {
  AccessTokenIssued: true,
  AccessTokenRevoked: true,
};
export const ACCESS_TOKEN_EVENT_TYPES = Object.keys(
  accessTokenEventTypes,
) as readonly AccessTokenEvent['type'][];

export interface IssueAccessToken {
  type: 'IssueAccessToken';
  jti: string;
  clientId: string;
  sub: string;
  aud: string[];
  scope: string[];
  grantType: string;
  grantId?: string;
  username?: string;
  now: Date;
  ttlSeconds: number;
  kid: string;
}

export interface RevokeAccessToken {
  type: 'RevokeAccessToken';
  revokedBy: string;
  now: Date;
}

export type AccessTokenCommand = IssueAccessToken | RevokeAccessToken;

export type AccessTokenState =
  | { status: 'none' }
  | { status: 'active'; token: AccessTokenIssued['data'] }
  | { status: 'revoked'; token: AccessTokenIssued['data']; revokedAt: string };

export const initialAccessTokenState = (): AccessTokenState => ({ status: 'none' });

export class AccessTokenAlreadyIssued extends OAuthError {
  constructor() {
    super('server_error', 'the server encountered an unexpected condition', { detail: 'jti reused' });
  }
}

export function decideAccessToken(command: AccessTokenCommand, state: AccessTokenState): NewEvent[] {
  switch (command.type) {
    case 'IssueAccessToken': {
      if (state.status !== 'none') throw new AccessTokenAlreadyIssued();
      const iat = Math.floor(command.now.getTime() / 1000);
      const event: AccessTokenIssued = {
        type: 'AccessTokenIssued',
        data: {
          jti: command.jti,
          clientId: command.clientId,
          sub: command.sub,
          aud: command.aud,
          scope: command.scope,
          grantType: command.grantType,
          ...(command.grantId !== undefined ? { grantId: command.grantId } : {}),
          ...(command.username !== undefined ? { username: command.username } : {}),
          iat,
          exp: iat + command.ttlSeconds,
          kid: command.kid,
        },
      };
      return [event];
    }
    case 'RevokeAccessToken': {
      // RFC 7009 §2.2: revoking an unknown or already revoked token succeeds without a change.
      if (state.status !== 'active') return [];
      const event: AccessTokenRevoked = {
        type: 'AccessTokenRevoked',
        data: {
          jti: state.token.jti,
          revokedAt: command.now.toISOString(),
          revokedBy: command.revokedBy,
          reason: 'revocation_request',
        },
      };
      return [event];
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

export function evolveAccessToken(state: AccessTokenState, event: RecordedEvent): AccessTokenState {
  const e = event as unknown as AccessTokenEvent;
  switch (e.type) {
    case 'AccessTokenIssued':
      return { status: 'active', token: e.data };
    case 'AccessTokenRevoked':
      return state.status === 'none'
        ? state
        : { status: 'revoked', token: state.token, revokedAt: e.data.revokedAt };
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}
