import type { UserInfoResponse, UserProfile } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import { isOpenIdScope } from './id-token.js';
import type { TokenStateRow } from './token-state.projection.js';

/** RFC 6750 §3, §3.1: the challenge of a refused UserInfo request. */
function bearerError(error: 'invalid_token' | 'insufficient_scope', description: string): OAuthError {
  return new OAuthError(error, description, {
    headers: { 'WWW-Authenticate': `Bearer error="${error}", error_description="${description}"` },
  });
}

export const invalidUserInfoToken = (description: string): OAuthError =>
  bearerError('invalid_token', description);

/**
 * checkUserInfoToken (OpenID Connect Core §5.3; RFC 6750 §3.1), on the token's token_state row:
 * - unknown (never issued), revoked (itself or its grant) or expired: invalid_token;
 * - issued without a user (client_credentials: `sub` is the client): invalid_token;
 * - without `openid` in its scope: insufficient_scope (Core §5.3.3, 403).
 */
export function checkUserInfoToken(row: TokenStateRow | null, nowSeconds: number): TokenStateRow {
  if (row === null || row.status !== 'active' || row.exp <= nowSeconds) {
    throw invalidUserInfoToken('the access token is invalid, expired or revoked');
  }
  if (row.grantId === undefined || row.grantType === 'client_credentials') {
    throw invalidUserInfoToken('the access token was not issued for a user');
  }
  if (!isOpenIdScope(row.scope)) {
    throw bearerError('insufficient_scope', 'the access token lacks the openid scope');
  }
  return row;
}

/**
 * userInfoClaims (OpenID Connect Core §5.3.2, §5.4): `sub` always; by scope, the standard claims the
 * user has:
 * - profile: name, preferred_username (the login name);
 * - email: email, email_verified (false: this server does not verify addresses);
 * - address, phone: users hold none yet, so nothing is released.
 */
export function userInfoClaims(user: UserProfile, scope: readonly string[], sub: string): UserInfoResponse {
  const claims: UserInfoResponse = { sub };
  if (scope.includes('profile')) {
    if (user.name !== undefined) claims.name = user.name;
    claims.preferred_username = user.username;
  }
  if (scope.includes('email') && user.email !== undefined) {
    claims.email = user.email;
    claims.email_verified = false;
  }
  return claims;
}
