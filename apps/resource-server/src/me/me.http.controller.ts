import { Controller, Get } from '@nestjs/common';
import {
  AccessToken,
  RequireScopes,
  RevocationSensitive,
  type VerifiedAccessToken,
} from '#lib/resource-guard';
import { UserProfileService } from './user-profile.service.js';

/**
 * The protected API of the example: the signed-in user's profile and email address.
 * Access tokens are validated locally (JWKS); /api/me/email also asks introspection, so a revoked
 * token stops working there at once, while /api/whoami accepts it until it expires.
 */
@Controller('api')
export class MeHttpController {
  constructor(private readonly profiles: UserProfileService) {}

  @Get('me')
  @RequireScopes('profile')
  async me(@AccessToken() token: VerifiedAccessToken) {
    const p = await this.profiles.profileOf(token.claims);
    return { sub: p.sub, username: p.username, ...(p.name ? { name: p.name } : {}) };
  }

  @Get('me/email')
  @RequireScopes('email')
  @RevocationSensitive()
  async email(@AccessToken() token: VerifiedAccessToken) {
    const p = await this.profiles.profileOf(token.claims);
    return { sub: p.sub, email: p.email ?? null };
  }

  /** Any valid token of this audience: what the resource server saw in it (local validation only). */
  @Get('whoami')
  @RequireScopes()
  whoami(@AccessToken() token: VerifiedAccessToken) {
    const c = token.claims;
    return {
      sub: c.sub,
      client_id: c.client_id,
      resource_owner: c.sub !== c.client_id,
      scope: token.scopes.join(' '),
      aud: c.aud,
      iat: c.iat,
      exp: c.exp,
      jti: c.jti,
    };
  }
}
