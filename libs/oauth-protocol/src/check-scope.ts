import { invalidScope } from '#lib/oauth-errors';

/**
 * checkScope
 * - RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 / %x23-5B / %x5D-7E );
 *   order does not matter and duplicates collapse.
 * - RFC 6749 §3.3 leaves the size of a scope to the server: at most MAX_SCOPE_TOKENS values in one
 *   request (and in one client's registration, libs/domain-client), each at most
 *   MAX_SCOPE_TOKEN_LENGTH characters; a larger one is invalid_scope before anything compares it.
 * - RFC 6749 §3.3: an omitted scope means the client's default scope; no default → invalid_scope;
 *   asking for a scope the client may not use → invalid_scope (never a silent subset).
 * - Scopes are compared as sets: each comparison is linear in the sizes of both sides.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Most scope values in one request or one client's registered scope. */
export const MAX_SCOPE_TOKENS = 100;
/** Longest scope value, in characters. */
export const MAX_SCOPE_TOKEN_LENGTH = 128;

export function parseScope(raw: string): string[] {
  // Cheap bound first: a longer string cannot be MAX_SCOPE_TOKENS tokens of the longest length.
  if (raw.length > MAX_SCOPE_TOKENS * (MAX_SCOPE_TOKEN_LENGTH + 1)) throw tooManyScopeTokens();
  const tokens = raw.split(' ');
  if (tokens.length > MAX_SCOPE_TOKENS) throw tooManyScopeTokens();
  if (tokens.some((t) => t.length > MAX_SCOPE_TOKEN_LENGTH)) {
    throw invalidScope(`a scope value is longer than ${MAX_SCOPE_TOKEN_LENGTH} characters`);
  }
  if (tokens.some((t) => t === '' || !SCOPE_TOKEN.test(t))) {
    throw invalidScope('scope is malformed (RFC 6749 section 3.3)');
  }
  return [...new Set(tokens)];
}

const tooManyScopeTokens = () =>
  invalidScope(
    `scope is too large: at most ${MAX_SCOPE_TOKENS} values of at most ${MAX_SCOPE_TOKEN_LENGTH} characters`,
  );

/** RFC 6749 §3.3 scope-token, within this server's length bound. */
export function isValidScopeToken(token: string): boolean {
  return token.length <= MAX_SCOPE_TOKEN_LENGTH && SCOPE_TOKEN.test(token);
}

export function formatScope(scope: readonly string[]): string {
  return scope.join(' ');
}

export function resolveRequestedScope(
  requested: string | undefined,
  client: { scope: readonly string[]; defaultScope: readonly string[] },
): string[] {
  if (requested === undefined || requested === '') {
    if (client.defaultScope.length === 0) {
      throw invalidScope('scope is required: the client has no default scope');
    }
    return [...client.defaultScope];
  }
  const scope = parseScope(requested);
  const allowed = new Set(client.scope);
  const refused = scope.filter((s) => !allowed.has(s));
  if (refused.length > 0) {
    throw invalidScope(`scope not allowed for this client: ${refused.join(' ')}`);
  }
  return scope;
}

/** True when every requested value is in `held` (set comparison, linear). */
export function scopeCovers(held: readonly string[], requested: readonly string[]): boolean {
  const set = new Set(held);
  return requested.every((s) => set.has(s));
}

/**
 * The scope a user's grant yields at the token endpoint (authorization_code, refresh_token):
 * - RFC 6749 §6: a requested scope must not include any scope the resource owner did not grant;
 * - and none the client may no longer request (an administrator narrowed it since): a grant never
 *   gives a client more than its registration allows now; either is invalid_scope (RFC 6749
 *   §5.2; never a silent subset of what was asked);
 * - omitted (or empty): the granted scope, less what the client may no longer request (RFC 6749
 *   §5.1: the token response names the scope issued);
 * - nothing left: invalid_scope. No access token is issued without a scope, and the grant is left
 *   as it is, so that restoring the client's scope restores its users' grants.
 */
export function scopeWithinGrant(
  requested: readonly string[] | undefined,
  granted: readonly string[],
  clientScope: readonly string[],
): string[] {
  const allowed = new Set(clientScope);
  if (requested === undefined || requested.length === 0) {
    const scope = granted.filter((s) => allowed.has(s));
    if (scope.length === 0) {
      throw invalidScope('none of the granted scope is allowed for this client any more');
    }
    return scope;
  }
  const grant = new Set(granted);
  const widened = requested.filter((s) => !grant.has(s));
  if (widened.length > 0) throw invalidScope(`scope exceeds the grant: ${widened.join(' ')}`);
  const withdrawn = requested.filter((s) => !allowed.has(s));
  if (withdrawn.length > 0) {
    throw invalidScope(`scope no longer allowed for this client: ${withdrawn.join(' ')}`);
  }
  return [...requested];
}
