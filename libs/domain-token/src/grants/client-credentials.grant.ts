import { unauthorizedClient } from '#lib/oauth-errors';
import { resolveRequestedScope } from '#lib/oauth-protocol';
import type { GrantConfig, GrantContext, GrantHandler, GrantIssue } from './grant-handler.js';
import { accessTokenLifetime } from './lifetimes.js';
import { resolveAudience } from './resolve-audience.js';

/**
 * client_credentials (RFC 6749 §4.4)
 * - §4.4.2: the client MUST authenticate; only confidential clients (enforced at registration).
 * - §4.4.3: no refresh token SHOULD be issued.
 * - §5.2: a client not registered for the grant gets unauthorized_client.
 * - §3.3: omitted scope → the client's default scope; unknown → invalid_scope.
 * - RFC 8707 §2: a requested `resource` must be in the client's audience list (invalid_target).
 */
export interface ClientCredentialsGrantHandler extends GrantHandler {
  handle(context: GrantContext): GrantIssue;
}

export function clientCredentialsGrant(config: GrantConfig): ClientCredentialsGrantHandler {
  return {
    grantType: 'client_credentials',
    parameters: ['scope', 'resource'],
    handle({ client, parameters, resources, now, jti, kid }: GrantContext): GrantIssue {
      // §4.4: confidential clients only, also for a public client whose metadata lists the grant.
      if (client.tokenEndpointAuthMethod === 'none' || !client.grantTypes.includes('client_credentials')) {
        throw unauthorizedClient('the client is not allowed to use the client_credentials grant');
      }
      const scope = resolveRequestedScope(parameters.scope, client);
      return {
        issue: {
          type: 'IssueAccessToken',
          jti,
          clientId: client.clientId,
          // RFC 9068 §2.2: sub is the client when no resource owner is involved.
          sub: client.clientId,
          aud: resolveAudience(resources, client.audience, config.issuer, {
            scope,
            audience: config.adminAudience,
          }),
          scope,
          grantType: 'client_credentials',
          now,
          ttlSeconds: accessTokenLifetime(config, client),
          kid,
        },
      };
    },
  };
}
