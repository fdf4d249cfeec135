import { Inject, Injectable, Logger } from '@nestjs/common';
import { type RequestContext, Subjects, type UserProfile } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import { SERVICE_RPC } from '../introspection.tokens.js';

/**
 * RFC 7662 §2.2 `username` of a user's token, asked of the consent service, owner of the user:
 * the token service no longer copies it into its events, so erasing the user (GDPR Art. 17)
 * reaches it. `username` is OPTIONAL: an erased or unknown user, or a consent service that does
 * not answer, leaves it out rather than failing the introspection.
 */
@Injectable()
export class Usernames {
  private readonly logger = new Logger('Introspection');

  constructor(@Inject(SERVICE_RPC) private readonly rpc: RpcClient) {}

  async of(sub: string, context: RequestContext): Promise<string | null> {
    try {
      const profile = await this.rpc.request<UserProfile>(
        Subjects.consent.userProfile,
        { sub },
        context.correlationId,
      );
      return profile.username;
    } catch (err) {
      if (!(err instanceof OAuthError && err.status < 500)) {
        this.logger.warn({
          msg: `introspection answered without username: consent did not answer (${String(err)})`,
          correlationId: context.correlationId,
        });
      }
      return null;
    }
  }
}
