import { HttpException, Inject, Injectable } from '@nestjs/common';
import { Subjects, type UserProfile, type UserProfileRequest } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import type { AccessTokenClaims } from '#lib/resource-guard';
import type { RpcClient } from '#lib/service-runtime';
import { RESOURCE_RPC } from '../resource-server.tokens.js';

/**
 * The resource owner behind an access token, asked of the consent service (consent.user-profile).
 * A client-credentials token has no resource owner (RFC 9068 §2.2: its sub is the client), so
 * /api/me answers 404 `no_resource_owner` for it: the token is valid, the resource does not exist.
 */
@Injectable()
export class UserProfileService {
  constructor(@Inject(RESOURCE_RPC) private readonly rpc: RpcClient) {}

  async profileOf(claims: AccessTokenClaims): Promise<UserProfile> {
    if (claims.sub === claims.client_id) {
      throw new HttpException(
        {
          error: 'no_resource_owner',
          error_description:
            'this access token was issued to a client on its own behalf (client credentials): there is no user behind it. /api/me needs a token from the authorization code flow.',
        },
        404,
      );
    }
    let profile: UserProfile;
    try {
      profile = await this.rpc.request<UserProfile>(Subjects.consent.userProfile, {
        sub: claims.sub,
      } satisfies UserProfileRequest);
    } catch (err) {
      if (err instanceof OAuthError && err.status !== 503 && err.status < 500) {
        throw new HttpException({ error: 'not_found', error_description: 'no such user' }, 404);
      }
      throw new HttpException(
        { error: 'temporarily_unavailable', error_description: 'the user directory cannot be reached' },
        503,
      );
    }
    if (profile.status !== 'active') {
      throw new HttpException({ error: 'not_found', error_description: 'no such user' }, 404);
    }
    return profile;
  }
}
