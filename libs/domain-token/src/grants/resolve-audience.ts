import { OAuthError } from '#lib/oauth-errors';

/** The scope that makes a token one for the admin API (granted to clients by administrators only). */
const ADMIN_SCOPE = 'admin';

/**
 * resolveAudience (RFC 8707 §2, RFC 9068 §3)
 * - a `resource` is an absolute URI without a fragment; anything else is invalid_target;
 * - each requested resource must be one the grant allows: for the code and refresh grants the
 *   grant's `resource` (from /authorize) or, when it had none, the client's audience list; for
 *   client credentials the client's audience list; otherwise invalid_target;
 * - with resources requested the audience is exactly those; without, every allowed audience,
 *   or the issuer when the client has none;
 * - a token with the `admin` scope is for the admin API alone (RFC 9068 §4, RFC 8707 §2): its
 *   audience is the admin API's, whatever the client's audience list says.
 */
export function resolveAudience(
  requested: readonly string[],
  allowed: readonly string[],
  issuer: string,
  admin?: { scope: readonly string[]; audience: string },
): string[] {
  if (admin !== undefined && admin.scope.includes(ADMIN_SCOPE))
    return resolveAudience(requested, [admin.audience], issuer);
  if (requested.length === 0) return allowed.length > 0 ? [...allowed] : [issuer];
  for (const resource of requested) {
    if (!isResourceIndicator(resource)) {
      throw invalidTarget('resource must be an absolute URI without a fragment');
    }
    if (!allowed.includes(resource)) throw invalidTarget('resource not allowed for this grant');
  }
  return [...new Set(requested)];
}

export function isResourceIndicator(value: string): boolean {
  if (value.includes('#')) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

const invalidTarget = (description: string) => new OAuthError('invalid_target', description);
