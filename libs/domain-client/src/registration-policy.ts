import { OAuthError } from '#lib/oauth-errors';
import type { ClientMetadata } from './client-metadata.js';

/** The scope only an administrator grants; always privileged, whatever else the operator marks. */
export const ADMIN_SCOPE = 'admin';

/**
 * What a client may give itself through RFC 7591 registration and RFC 7592 update. RFC 7591 §2:
 * "the authorization server MAY reject or replace any of the client's requested metadata values";
 * RFC 7591 §5 and RFC 9700 §4.11: a client must not register its way to privileges.
 */
export interface RegistrationPolicy {
  /** Scopes only an administrator grants (PRIVILEGED_SCOPES, with `admin`). */
  privilegedScopes: readonly string[];
  /** Scopes a client may choose; null: any scope that is not privileged. */
  allowedScopes: readonly string[] | null;
  /** Audiences a client may choose (RFC 9068 `aud`). */
  allowedAudiences: readonly string[];
  /** The server's lifetimes, which a client may lower but never raise. */
  maxAccessTokenTtlSeconds: number;
  maxRefreshTokenTtlSeconds: number;
}

/**
 * Who asks for the registration or the change: an administrator (admin API, CLI), who may grant
 * privileged scopes and set any audience or lifetime, or the client itself (self-service), held to
 * the policy.
 */
export type RegistrationOrigin =
  | { kind: 'administrator'; privilegedScopes: readonly string[] }
  | { kind: 'self-service'; policy: RegistrationPolicy };

export function privilegedScopesOf(origin: RegistrationOrigin): readonly string[] {
  return origin.kind === 'administrator' ? origin.privilegedScopes : origin.policy.privilegedScopes;
}

function refused(field: string, description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', `${field}: ${description}`);
}

/** What an administrator already gave the client, which a self-service update may keep. */
export interface GrantedByAdministrator {
  scope: readonly string[];
  privilegedScopes: readonly string[];
  audience: readonly string[];
  requirePkce: boolean;
  accessTokenTtlSeconds: number | null;
  refreshTokenTtlSeconds: number | null;
}

/**
 * checkRegistrationPolicy (self-service only)
 * - a privileged scope is refused unless the client already holds it (an administrator granted it);
 * - any other scope must be allowed by the policy, or already be the client's;
 * - every audience must be allowed by the policy, or already be the client's;
 * - lifetimes at most the server's, unless the same value an administrator set;
 * - PKCE stays on unless an administrator turned it off (RFC 9700 §2.1.1).
 * The first refusal names the field.
 */
export function checkRegistrationPolicy(
  metadata: ClientMetadata,
  policy: RegistrationPolicy,
  current: GrantedByAdministrator | null,
): void {
  const privileged = new Set(policy.privilegedScopes);
  const allowed = policy.allowedScopes === null ? null : new Set(policy.allowedScopes);
  const held = new Set([...(current?.scope ?? []), ...(current?.privilegedScopes ?? [])]);
  for (const scope of new Set([...metadata.scope, ...metadata.defaultScope])) {
    if (held.has(scope)) continue;
    if (privileged.has(scope)) throw refused('scope', `${scope} is granted by an administrator only`);
    if (allowed !== null && !allowed.has(scope))
      throw refused('scope', `${scope} is not allowed by the registration policy`);
  }
  const audiences = new Set([...policy.allowedAudiences, ...(current?.audience ?? [])]);
  for (const audience of metadata.audience) {
    if (!audiences.has(audience))
      throw refused('audience', `${audience} is not allowed by the registration policy`);
  }
  const lifetime = (field: string, value: number | null, max: number, kept: number | null | undefined) => {
    if (value !== null && value > max && value !== kept)
      throw refused(field, `at most ${max} seconds (the server's lifetime)`);
  };
  lifetime(
    'access_token_ttl_seconds',
    metadata.accessTokenTtlSeconds,
    policy.maxAccessTokenTtlSeconds,
    current?.accessTokenTtlSeconds,
  );
  lifetime(
    'refresh_token_ttl_seconds',
    metadata.refreshTokenTtlSeconds,
    policy.maxRefreshTokenTtlSeconds,
    current?.refreshTokenTtlSeconds,
  );
  if (!metadata.requirePkce && current?.requirePkce !== false)
    throw refused('require_pkce', 'only an administrator can turn PKCE off');
}
