import { invalidScope } from '#lib/oauth-errors';

/**
 * checkScope
 * - RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 / %x23-5B / %x5D-7E );
 *   order does not matter and duplicates collapse.
 * - Checklist decision 6: an omitted scope means the client's default scope; no default → invalid_scope;
 *   asking for a scope the client may not use → invalid_scope (never a silent subset).
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function parseScope(raw: string): string[] {
  const tokens = raw.split(' ');
  if (tokens.some((t) => t === '' || !SCOPE_TOKEN.test(t))) {
    throw invalidScope('scope is malformed (RFC 6749 section 3.3)');
  }
  return [...new Set(tokens)];
}

export function isValidScopeToken(token: string): boolean {
  return SCOPE_TOKEN.test(token);
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
