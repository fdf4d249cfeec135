import type { ClientView, IntrospectResponse } from '#lib/contracts';
import { invalidClient, invalidRequest } from '#lib/oauth-errors';
import type { TokenStateRow } from './token-state.projection.js';

/**
 * RFC 7662 §2.1 (the server decides who may introspect) and §2.2.
 * - Only confidential clients introspect (public callers: 401 invalid_client).
 * - A caller sees tokens issued to it and access tokens whose audience names it; anything else,
 *   and anything unknown, expired or revoked, is exactly {"active": false}.
 */
export function requireConfidentialCaller(caller: ClientView): void {
  if (caller.tokenEndpointAuthMethod === 'none') {
    throw invalidClient('introspection requires a confidential client');
  }
}

/** A token_state row, with the resource owner's login name read from the store (not published). */
export type IntrospectedToken = TokenStateRow & {
  username?: string;
  /** OpenID Connect Core §5.5: the claim names its grant's request asked for at UserInfo. */
  userinfoClaims?: string[];
};

export function introspectionResponse(
  row: IntrospectedToken | null,
  caller: ClientView,
  nowSeconds: number,
  issuer: string,
): IntrospectResponse {
  if (row === null || row.status !== 'active' || row.exp <= nowSeconds) return { active: false };
  const visible = row.clientId === caller.clientId || row.aud.includes(caller.clientId);
  if (!visible) return { active: false };
  return {
    active: true,
    scope: row.scope.length > 0 ? row.scope.join(' ') : undefined,
    client_id: row.clientId,
    ...(row.username !== undefined ? { username: row.username } : {}),
    token_type: 'Bearer',
    exp: row.exp,
    iat: row.iat,
    nbf: row.iat,
    sub: row.sub,
    aud: row.aud.length === 1 ? row.aud[0]! : row.aud,
    iss: issuer,
    jti: row.jti,
  };
}

/**
 * RFC 7009 §2.1: the server verifies that the token was issued to the client making the request.
 * Another confidential client's token is refused with invalid_request (RFC 7009 §2.2.1); a public
 * caller is silently ignored (200, nothing revoked, §2.2).
 */
export type RevocationCheck = 'revoke' | 'ignore';

export function checkRevocationAllowed(tokenClientId: string, caller: ClientView): RevocationCheck {
  if (tokenClientId === caller.clientId) return 'revoke';
  if (caller.tokenEndpointAuthMethod === 'none') return 'ignore';
  throw invalidRequest('the token was not issued to this client');
}
