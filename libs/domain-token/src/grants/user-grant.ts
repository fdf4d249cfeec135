import type { GrantDecision, GrantFacts } from '#lib/domain-grant';
import { grantStreamId } from '#lib/domain-grant';
import type { IssueAccessToken } from '../access-token.js';
import type { GrantConfig, GrantContext, GrantRefusal, GrantStreamAppend } from './grant-handler.js';
import { accessTokenLifetime } from './lifetimes.js';
import { resolveAudience } from './resolve-audience.js';

/**
 * What the grant stream's decision means at the token endpoint: the events to append with the
 * expected version read, or a refusal that must still be recorded (a replay, a reuse), or a plain
 * refusal thrown at once.
 */
export function settleGrantDecision(
  grantId: string,
  version: number,
  decision: GrantDecision,
): { append: GrantStreamAppend } | GrantRefusal {
  const append = { streamId: grantStreamId(grantId), expectedVersion: version, events: decision.events };
  if (decision.refusal === null) return { append };
  if (decision.events.length > 0) return { refusal: decision.refusal, append };
  throw decision.refusal;
}

/**
 * The access token a user's grant (authorization_code, refresh_token) issues: sub and username of
 * the resource owner, bound to the grant. RFC 8707 §2: the audience is the requested resources
 * among those of the authorization request or, when it named none, the client's audience.
 */
export function userAccessToken(
  grant: GrantFacts,
  context: GrantContext,
  config: GrantConfig,
  grantType: 'authorization_code' | 'refresh_token',
  scope: string[],
): IssueAccessToken {
  const { client, jti, kid, now } = context;
  return {
    type: 'IssueAccessToken',
    jti,
    clientId: client.clientId,
    sub: grant.sub,
    aud: resolveAudience(
      context.resources,
      grant.resource.length > 0 ? grant.resource : client.audience,
      config.issuer,
      { scope, audience: config.adminAudience },
    ),
    scope,
    grantType,
    grantId: grant.grantId,
    ...(grant.username !== undefined ? { username: grant.username } : {}),
    now,
    ttlSeconds: accessTokenLifetime(config, client),
    kid,
  };
}
