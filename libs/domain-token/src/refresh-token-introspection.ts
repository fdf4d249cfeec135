import type { ClientView, RefreshTokenIntrospection } from '#lib/contracts';
import {
  decideGrant,
  grantStreamId,
  type GrantState,
  ISSUED_REFRESH_TOKEN_QUERY,
  presentedHashNeedsHistory,
} from '#lib/domain-grant';
import type { EventStore, NewEvent } from '#lib/event-store';
import { checkRevocationAllowed } from './introspection.js';

/**
 * Refresh tokens at the introspection and revocation endpoints. They are read from the grant
 * stream itself (the write model), never from a projection: a rotation or a revocation is seen the
 * moment it is committed (RFC 7662 §4, RFC 9700 §4.14.2). `tokenHash` is the token hashed
 * as its grant's tokens are (grantTokenHasher).
 */

/**
 * RFC 7662 §2.2: active only for the family's current token, unexpired, and only
 * for the client it was issued to; a rotated (consumed) token is inactive.
 */
export function introspectRefreshToken(
  state: GrantState,
  tokenHash: string,
  caller: ClientView,
  nowSeconds: number,
  issuer: string,
): RefreshTokenIntrospection | { active: false } {
  if (state.status !== 'active' || state.family === null) return { active: false };
  const { grant, family } = state;
  if (family.currentHash !== tokenHash) return { active: false };
  const exp = Math.min(family.expiresAt, family.familyExpiresAt);
  if (nowSeconds >= exp) return { active: false };
  if (grant.clientId !== caller.clientId) return { active: false };
  return {
    active: true,
    ...(family.scope.length > 0 ? { scope: family.scope.join(' ') } : {}),
    client_id: grant.clientId,
    ...(grant.username !== undefined ? { username: grant.username } : {}),
    token_type: 'refresh_token',
    exp,
    iat: family.rotatedAt,
    sub: grant.sub,
    iss: issuer,
    ...(grant.resource.length > 0
      ? { aud: grant.resource.length === 1 ? grant.resource[0]! : grant.resource }
      : {}),
  };
}

/**
 * RFC 7009 §2.1: revoking any refresh token of a family (the current one or one already rotated,
 * RFC 9700 §4.14.2) revokes the grant: the family and every access token issued from it (RFC 7009
 * §2.1 SHOULD). Another client's token: a confidential caller gets invalid_request, a public one is
 * ignored. An unknown token, or a grant already revoked: nothing to do (§2.2).
 */
export function refreshTokenRevocation(
  state: GrantState,
  ofFamily: boolean,
  caller: ClientView,
  now: Date,
): NewEvent[] {
  if (state.status !== 'active' || state.family === null || !ofFamily) return [];
  if (checkRevocationAllowed(state.grant.clientId, caller) === 'ignore') return [];
  return decideGrant(
    { type: 'RevokeGrant', reason: 'revocation_request', revokedBy: `client:${caller.clientId}`, now },
    state,
  ).events;
}

/**
 * Whether `tokenHash` is a refresh token of the grant's live family, current or rotated: the current
 * and the previous token are in the state; an older one is probed in the grant's history (an indexed
 * lookup, RFC 9700 §4.14.2), so the state need not list every hash the family used.
 */
export async function isRefreshTokenOfFamily(
  store: Pick<EventStore, 'streamHasEvent'>,
  state: GrantState,
  tokenHash: string,
): Promise<boolean> {
  if (state.status !== 'active' || state.family === null) return false;
  if (!presentedHashNeedsHistory(state, tokenHash)) return true;
  return store.streamHasEvent(grantStreamId(state.grant.grantId), {
    ...ISSUED_REFRESH_TOKEN_QUERY,
    equals: tokenHash,
  });
}
