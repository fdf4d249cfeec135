/** How a resource server accepts this authorization server's access tokens. */
export interface ResourceGuardOptions {
  /** The authorization server's issuer identifier (RFC 8414 §2); tokens must carry it as `iss`. */
  issuer: string;
  /** This resource server's audience: access tokens must name it in `aud` (RFC 9068 §4). */
  audience: string;
  /** Signing algorithms accepted (RFC 8725 §3.1); default ES256, EdDSA, RS256, PS256. Never `none` or HS*. */
  algorithms?: string[];
  /** Clock skew allowed on exp/nbf/iat, in seconds; default 30. */
  leewaySeconds?: number;
  /** `realm` of the WWW-Authenticate challenge (RFC 6750 §3); default the audience. */
  realm?: string;
  /**
   * Credentials of this resource server at the authorization server, for endpoints marked
   * `@RevocationSensitive()` (RFC 7662 introspection). The client_id must be the audience, so
   * that the authorization server lets it introspect tokens issued for this audience.
   */
  introspection?: { clientId: string; clientSecret: string };
  /**
   * Shortest and longest time a fetched JWKS is trusted (seconds); defaults 30 and 600. The
   * shortest is also the longest back-off after failed fetches, and the least time between two
   * refetches for an unknown `kid`.
   */
  jwksMinAgeSeconds?: number;
  jwksMaxAgeSeconds?: number;
  /**
   * Longest wait, in milliseconds, for each request to the authorization server (metadata, JWKS,
   * introspection), body included; default 5000. A hung server costs a request this long at most:
   * the answer is then 503.
   */
  fetchTimeoutMs?: number;
  /** For tests: the fetch and the clock. */
  fetch?: typeof fetch;
  now?: () => number;
}

export const DEFAULT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
export const DEFAULT_FETCH_TIMEOUT_MS = 5000;
const SYMMETRIC_OR_NONE = /^(none|HS\d+)$/i;

/** Refuses settings that would make the guard unsafe (RFC 8725 §3.1, §3.2). */
export function checkOptions(
  options: ResourceGuardOptions,
): Required<Pick<ResourceGuardOptions, 'algorithms' | 'fetchTimeoutMs'>> {
  if (!/^https?:\/\//.test(options.issuer)) throw new Error('resource guard: issuer must be an http(s) URL');
  if (!options.audience) throw new Error('resource guard: audience is required');
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.length === 0 || algorithms.some((a) => SYMMETRIC_OR_NONE.test(a))) {
    throw new Error('resource guard: algorithms must be asymmetric (never none or HS*)');
  }
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  if (!Number.isInteger(fetchTimeoutMs) || fetchTimeoutMs <= 0) {
    throw new Error('resource guard: fetchTimeoutMs must be a positive integer');
  }
  return { algorithms, fetchTimeoutMs };
}
