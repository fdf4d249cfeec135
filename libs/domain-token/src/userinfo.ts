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
export function checkUserInfoToken<T extends TokenStateRow>(row: T | null, nowSeconds: number): T {
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
 * userInfoClaims (OpenID Connect Core §5.3.2, §5.4, §5.5): `sub` always; by scope, the standard
 * claims the user has:
 * - profile: name, preferred_username (the login name);
 * - email: email, email_verified (false: this server does not verify addresses);
 * - address, phone: users hold none yet, so nothing is released;
 * and, besides, those the grant's `claims` request named for `userinfo` (§5.5) that the user has.
 */
export function userInfoClaims(
  user: UserProfile,
  scope: readonly string[],
  sub: string,
  requested: readonly string[] = [],
): UserInfoResponse {
  const names = new Set(requested);
  if (scope.includes('profile')) ['name', 'preferred_username'].forEach((n) => names.add(n));
  if (scope.includes('email')) ['email', 'email_verified'].forEach((n) => names.add(n));
  return { sub, ...userClaims(user, [...names]) };
}

/**
 * The user claims named (Core §5.1), those the user has: name, preferred_username (the login name),
 * email, email_verified (false: this server does not verify addresses; released only with an
 * address). Any other name gives nothing; `sub` is never taken from here.
 */
export function userClaims(user: UserProfile, names: readonly string[]): Partial<UserInfoResponse> {
  const claims: Partial<UserInfoResponse> = {};
  if (names.includes('name') && user.name !== undefined) claims.name = user.name;
  if (names.includes('preferred_username')) claims.preferred_username = user.username;
  if (user.email !== undefined) {
    if (names.includes('email')) claims.email = user.email;
    if (names.includes('email_verified')) claims.email_verified = false;
  }
  return claims;
}
