import { decideGrant, grantIdOf, grantTokenHasher } from '#lib/domain-grant';
import type { Keyset } from '#lib/keysets';
import { invalidGrant, invalidRequest, unauthorizedClient } from '#lib/oauth-errors';
import { parseScope, scopeWithinGrant } from '#lib/oauth-protocol';
import type { GrantConfig, GrantContext, GrantHandlerOutcome, GrantHandler } from './grant-handler.js';
import { refreshTokenLifetimes, type RefreshTokenConfig } from './lifetimes.js';
import { settleGrantDecision, userAccessToken } from './user-grant.js';
import { type IdTokenConfig, idTokenPlan } from '../id-token.js';

export interface RefreshTokenGrantConfig extends GrantConfig, RefreshTokenConfig, IdTokenConfig {
  /** SECRET_HASH_KEYS: refresh tokens are only ever compared as hashes (grantTokenHasher). */
  secretHashKeys: Keyset;
}

/**
 * refresh_token (RFC 6749 §6, RFC 9700 §4.14.2, OAuth 2.1 §4.3)
 * - the token names its grant: one read of `grant-<grantId>`; rotated on every use, for public
 *   and confidential clients alike (RFC 9700 §4.14.2);
 * - bound to the client it was issued to (RFC 6749 §6, §10.4); only for clients registered for the grant;
 * - a rotated token presented again revokes the family (RefreshTokenReuseDetected + GrantRevoked,
 *   RFC 9700 §4.14.2) unless the client's reuse grace window (at most 60 s) covers it; the event
 *   store's expected-version check decides concurrent uses (by default concurrency counts as reuse);
 * - a family rotated REFRESH_TOKEN_MAX_ROTATIONS times ends (RefreshTokenFamilyEnded): the client
 *   must re-authorize, so no family's history grows without bound;
 * - the access token's scope may narrow, never widen, and holds only what the client may still
 *   request (an administrator may have narrowed it since); the refresh token keeps the grant's scope
 *   (RFC 6749 §6: identical scope; a wider one is invalid_scope); idle and absolute expiry
 *   (RFC 9700 §4.14.2);
 * - with `openid` in the issued scope, a fresh ID token: same sub and auth_time, no nonce
 *   (OpenID Connect Core §12.2).
 */
export function refreshTokenGrant(config: RefreshTokenGrantConfig): GrantHandler {
  return {
    grantType: 'refresh_token',
    parameters: ['refresh_token', 'scope', 'resource'],
    async handle(context: GrantContext): Promise<GrantHandlerOutcome> {
      const { client, parameters, now, jti } = context;
      if (!client.grantTypes.includes('refresh_token')) {
        throw unauthorizedClient('the client is not allowed to use the refresh_token grant');
      }
      const presented = parameters.refresh_token;
      // RFC 6749 §6: refresh_token is REQUIRED.
      if (presented === undefined) throw invalidRequest('refresh_token is required');
      // RFC 6749 §3.2, §3.3: an empty scope is treated as omitted; a malformed one is invalid_scope.
      const requested = parameters.scope === undefined ? undefined : parseScope(parameters.scope);
      const grantId = grantIdOf(presented);
      if (grantId === null) throw invalidGrant('the refresh token is invalid, expired or revoked');
      const { state, version } = await context.grants.load(grantId);
      const next = context.newGrantToken(grantId);
      const hash = grantTokenHasher(config.secretHashKeys, state);
      const presentedHash = hash(presented);
      const decision = decideGrant(
        {
          type: 'RotateRefreshToken',
          presentedHash,
          clientId: client.clientId,
          scope: requested,
          clientScope: client.scope,
          newHash: hash(next),
          idleTtlSeconds: refreshTokenLifetimes(config, client).idleTtlSeconds,
          accessTokenJti: jti,
          reuseGraceSeconds: client.refreshTokenReuseGraceSeconds ?? 0,
          presentedWasIssued: await context.grants.isOfFamily(state, presentedHash),
          maxRotations: config.refreshTokenMaxRotations,
          now,
        },
        state,
      );
      const settled = settleGrantDecision(grantId, version, decision);
      if ('refusal' in settled) return settled;
      if (state.status !== 'active') throw new Error('decideGrant rotated a grant that is not active');
      const issue = userAccessToken(
        state.grant,
        context,
        config,
        'refresh_token',
        scopeWithinGrant(requested, state.grant.scope, client.scope),
      );
      return {
        issue,
        append: settled.append,
        refreshToken: next,
        ...idTokenPlan(config, state.grant, client, issue.scope, { now, exchange: 'refresh' }),
      };
    },
  };
}
