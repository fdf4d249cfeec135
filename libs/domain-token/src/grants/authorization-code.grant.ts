import { decideGrant, grantIdOf, grantTokenHasher } from '#lib/domain-grant';
import type { Keyset } from '#lib/keysets';
import { invalidGrant, invalidRequest, unauthorizedClient } from '#lib/oauth-errors';
import { scopeWithinGrant } from '#lib/oauth-protocol';
import type { GrantConfig, GrantContext, GrantHandlerOutcome, GrantHandler } from './grant-handler.js';
import { refreshTokenLifetimes, type RefreshTokenConfig } from './lifetimes.js';
import { settleGrantDecision, userAccessToken } from './user-grant.js';
import { type IdTokenConfig, idTokenPlan, isOpenIdScope, OFFLINE_ACCESS_SCOPE } from '../id-token.js';

export interface AuthorizationCodeGrantConfig extends GrantConfig, RefreshTokenConfig, IdTokenConfig {
  /** SECRET_HASH_KEYS: codes and refresh tokens are only ever compared as hashes (grantTokenHasher). */
  secretHashKeys: Keyset;
}

/**
 * authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6), redeemed on the grant stream
 * - the code names its grant (`<grantId>.<secret>`): one read of `grant-<grantId>`;
 * - decideGrant checks the code hash, the client binding (RFC 6749 §4.1.3), expiry (§4.1.2), the
 *   redirect_uri (§4.1.3: must match when sent at authorization; may be omitted when PKCE was used)
 *   and PKCE (RFC 7636 §4.6, constant time);
 * - any replay records AuthorizationCodeReplayed + GrantRevoked and answers invalid_grant
 *   (RFC 6749 §4.1.2, §10.5; exactly one redemption wins, every replay revokes the grant);
 * - a refresh token only for clients registered for the refresh_token grant (RFC 6749 §1.5) and,
 *   when the grant is an OpenID Connect one (`openid`), only with `offline_access` (Core §11);
 * - an ID token when the issued scope has `openid` (Core §3.1.3.3), its nonce the request's.
 */
export function authorizationCodeGrant(config: AuthorizationCodeGrantConfig): GrantHandler {
  return {
    grantType: 'authorization_code',
    parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
    async handle(context: GrantContext): Promise<GrantHandlerOutcome> {
      const { client, parameters, now, jti } = context;
      if (!client.grantTypes.includes('authorization_code')) {
        throw unauthorizedClient('the client is not allowed to use the authorization_code grant');
      }
      const code = parameters.code;
      // RFC 6749 §4.1.3: code is REQUIRED.
      if (code === undefined) throw invalidRequest('code is required');
      const grantId = grantIdOf(code);
      if (grantId === null) throw invalidGrant('the authorization code is invalid, expired or already used');
      const { state, version } = await context.grants.load(grantId);
      const offline =
        !isOpenIdScope(state.status === 'none' ? [] : state.grant.scope) ||
        (state.status !== 'none' && state.grant.scope.includes(OFFLINE_ACCESS_SCOPE));
      const refreshToken =
        client.grantTypes.includes('refresh_token') && offline ? context.newGrantToken(grantId) : null;
      const lifetimes = refreshTokenLifetimes(config, client);
      const hash = grantTokenHasher(config.secretHashKeys, state);
      const decision = decideGrant(
        {
          type: 'RedeemAuthorizationCode',
          codeHash: hash(code),
          clientId: client.clientId,
          redirectUri: parameters.redirect_uri,
          codeVerifier: parameters.code_verifier,
          accessTokenJti: jti,
          refreshToken:
            refreshToken === null
              ? null
              : {
                  tokenHash: hash(refreshToken),
                  idleTtlSeconds: lifetimes.idleTtlSeconds,
                  absoluteTtlSeconds: lifetimes.absoluteTtlSeconds,
                },
          now,
        },
        state,
      );
      const settled = settleGrantDecision(grantId, version, decision);
      if ('refusal' in settled) return settled;
      if (state.status === 'none') throw new Error('decideGrant redeemed a grant that does not exist');
      // RFC 8707 §2: checked after the code is known good and before anything is recorded, so
      // an invalid_target does not burn the code; nor does an invalid_scope when the client lost
      // every granted scope since the authorization request.
      const issue = userAccessToken(
        state.grant,
        context,
        config,
        'authorization_code',
        scopeWithinGrant(undefined, state.grant.scope, client.scope),
      );
      return {
        issue,
        append: settled.append,
        ...(refreshToken !== null ? { refreshToken } : {}),
        ...idTokenPlan(config, state.grant, client, issue.scope, { now, exchange: 'code' }),
      };
    },
  };
}
