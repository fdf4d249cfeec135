import { Inject, Injectable } from '@nestjs/common';
import {
  type RequestContext,
  Subjects,
  type UserInfoRequest,
  type UserInfoResponse,
  type UserProfile,
} from '#lib/contracts';
import { type ClientDirectory, clientStreamId } from '#lib/domain-client';
import { checkUserInfoToken, invalidUserInfoToken, subjectFor, userInfoClaims } from '#lib/domain-token';
import type { PairwiseSubjectConfig } from '#lib/config';
import { OAuthError } from '#lib/oauth-errors';
import { PAIRWISE_SUBJECT_CONFIG, type RpcClient } from '#lib/service-runtime';
import { type AccessTokenClaims, AccessTokenInvalid, type KeyringVerifier } from '#lib/signing-keys';
import { CLIENT_DIRECTORY, KEYRING_VERIFIER, SERVICE_RPC } from '../introspection.tokens.js';
import { TokenStateService } from '../token-state/token-state.service.js';

/**
 * The UserInfo endpoint's answer (OpenID Connect Core §5.3), on the read side: the token is checked
 * as introspection checks it (signature, `typ` at+jwt and expiry by the keyring; life by
 * token_state, where a revoked grant revokes its tokens; its client still active), then the user's
 * claims are asked of consent, owner of `user-*` (`consent.user-profile`); a disabled user has
 * none. Nothing is appended.
 */
@Injectable()
export class UserInfoHandler {
  constructor(
    @Inject(SERVICE_RPC) private readonly rpc: RpcClient,
    @Inject(CLIENT_DIRECTORY) private readonly clients: ClientDirectory,
    @Inject(KEYRING_VERIFIER) private readonly verifier: KeyringVerifier,
    private readonly tokenState: TokenStateService,
    @Inject(PAIRWISE_SUBJECT_CONFIG) private readonly config: PairwiseSubjectConfig,
  ) {}

  async handle(request: UserInfoRequest): Promise<UserInfoResponse> {
    const claims = await this.verified(request.accessToken);
    const clientStream = clientStreamId(claims.client_id);
    const { row, versions } = await this.tokenState.getFreshWithStreamVersions(claims.jti, [clientStream]);
    const token = checkUserInfoToken(row, Math.floor(Date.now() / 1000));
    // A disabled or deleted client's tokens are inactive from the commit on.
    const client = (await this.clients.currentAt([token.clientId], versions)).get(token.clientId)?.state;
    if (client?.status !== 'active') {
      throw invalidUserInfoToken('the access token is invalid, expired or revoked');
    }
    const user = await this.profile(token.sub, request.context);
    if (user.status !== 'active')
      throw invalidUserInfoToken('the access token is invalid, expired or revoked');
    // Core §5.3.2: the sub of the client's ID token (pairwise for a pairwise client, §8.1).
    const sub = subjectFor(token.sub, client, () => this.config.pairwiseSubjectKey);
    // Core §5.5: the claims the consented request named for UserInfo ride on the token's grant.
    return userInfoClaims(user, token.scope, sub, token.userinfoClaims);
  }

  private async verified(token: unknown): Promise<AccessTokenClaims> {
    if (typeof token !== 'string' || token.length === 0) {
      throw invalidUserInfoToken('the access token is invalid, expired or revoked');
    }
    try {
      return await this.verifier.verify(token);
    } catch (err) {
      if (err instanceof AccessTokenInvalid) {
        throw invalidUserInfoToken('the access token is invalid, expired or revoked');
      }
      throw err;
    }
  }

  private async profile(sub: string, context: RequestContext): Promise<UserProfile> {
    try {
      return await this.rpc.request<UserProfile>(
        Subjects.consent.userProfile,
        { sub },
        context.correlationId,
      );
    } catch (err) {
      // A user forgotten since the token was issued has no claims left to give.
      if (err instanceof OAuthError && err.status < 500) {
        throw invalidUserInfoToken('the access token is invalid, expired or revoked');
      }
      throw err;
    }
  }
}
