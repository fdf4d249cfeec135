import { OAuthError } from '#lib/oauth-errors';

/**
 * Redirect URI registration and matching rules (RFC 6749 §3.1.2, RFC 7591 §2, RFC 9700 §2.1, §4.1.3).
 * Registered URIs are kept byte for byte; matching is simple string comparison
 * (RFC 3986 §6.2.1), the only exception being the port of a loopback IP literal (RFC 8252 §7.3).
 */
const MAX_REDIRECT_URI_LENGTH = 2000;
export const MAX_REDIRECT_URIS = 20;

function invalidRedirectUri(description: string): OAuthError {
  return new OAuthError('invalid_redirect_uri', description);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set(['javascript', 'data', 'file', 'vbscript', 'blob', 'about']);

interface Parsed {
  scheme: string;
  authority: string | null;
}

/** RFC 3986 §3: scheme ":" [ "//" authority ] path [ "?" query ] [ "#" fragment ]. */
function split(uri: string): Parsed | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/([^/?#]*))?/.exec(uri);
  if (!m) return null;
  return { scheme: m[1]!, authority: m[3] ?? null };
}

/** Throws invalid_redirect_uri (RFC 7591 §3.2.2) unless `uri` may be registered. */
export function checkRedirectUri(uri: string, options: { isPublic: boolean }): void {
  if (typeof uri !== 'string' || uri.length === 0) throw invalidRedirectUri('redirect URI must not be empty');
  if (uri.length > MAX_REDIRECT_URI_LENGTH) throw invalidRedirectUri('redirect URI too long');
  // Only visible ASCII: no spaces, controls or non-ASCII look-alikes (RFC 9700 §4.1.3).
  if (!/^[\x21-\x7e]+$/.test(uri)) throw invalidRedirectUri('redirect URI must be visible ASCII');
  const parts = split(uri);
  // RFC 6749 §3.1.2: an absolute URI.
  if (parts === null) throw invalidRedirectUri('redirect URI must be absolute');
  // RFC 6749 §3.1.2: no fragment component.
  if (uri.includes('#')) throw invalidRedirectUri('redirect URI must not have a fragment');
  const scheme = parts.scheme;
  // OAuth 2.1 §7.11: script and data schemes are never redirect targets.
  if (FORBIDDEN_SCHEMES.has(scheme.toLowerCase())) throw invalidRedirectUri(`scheme not allowed: ${scheme}`);
  if (/[*]/.test(uri)) throw invalidRedirectUri('redirect URI patterns are not supported');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidRedirectUri('redirect URI is not a valid URI');
  }
  if (scheme === 'https' || scheme === 'http') {
    if (parts.authority === null || parts.authority === '')
      throw invalidRedirectUri('redirect URI must have a host');
    // RFC 9700 §4.1: no userinfo (a URI like https://client@attacker.test/ misleads).
    if (parts.authority.includes('@') || url.username !== '' || url.password !== '')
      throw invalidRedirectUri('redirect URI must not carry userinfo');
    if (scheme === 'http') {
      // RFC 9700 §2.6, RFC 8252 §7.3: http only on a loopback IP literal.
      const host = parts.authority.replace(/:\d*$/, '');
      if (!LOOPBACK_HOSTS.has(host))
        throw invalidRedirectUri('http is allowed only on a loopback IP literal');
    }
    return;
  }
  if (scheme.toLowerCase() === 'https' || scheme.toLowerCase() === 'http')
    throw invalidRedirectUri('scheme must be lower case');
  // RFC 8252 §7.1, OAuth 2.1 §2.3.1: private-use schemes for native (public) clients, in
  // reverse domain-name form (with a period).
  if (!options.isPublic) throw invalidRedirectUri('private-use schemes are for native public clients only');
  if (!scheme.includes('.')) throw invalidRedirectUri('a private-use scheme must be a reverse domain name');
  if (parts.authority !== null && parts.authority.includes('@'))
    throw invalidRedirectUri('redirect URI must not carry userinfo');
}

/** The loopback literal with its port removed, or null when `uri` is not an http loopback URI. */
function withoutLoopbackPort(uri: string): string | null {
  const m = /^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?([/?].*)?$/.exec(uri);
  if (!m) return null;
  return `http://${m[1]}${m[3] ?? ''}`;
}

/**
 * Is `presented` one of the client's registered redirect URIs? Exact string comparison; for a
 * registered http loopback IP literal, any port (RFC 8252 §7.3).
 */
export function matchRedirectUri(registered: readonly string[], presented: string): string | null {
  for (const r of registered) if (r === presented) return r;
  const bare = withoutLoopbackPort(presented);
  if (bare === null) return null;
  for (const r of registered) {
    if (withoutLoopbackPort(r) === bare) return presented;
  }
  return null;
}
