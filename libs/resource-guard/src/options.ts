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
  /** Shortest and longest time a fetched JWKS is trusted (seconds); defaults 30 and 600. */
  jwksMinAgeSeconds?: number;
  jwksMaxAgeSeconds?: number;
  /** For tests: the fetch and the clock. */
  fetch?: typeof fetch;
  now?: () => number;
}

export const DEFAULT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
const SYMMETRIC_OR_NONE = /^(none|HS\d+)$/i;

/** Refuses settings that would make the guard unsafe (RFC 8725 §3.1, §3.2). */
export function checkOptions(
  options: ResourceGuardOptions,
): Required<Pick<ResourceGuardOptions, 'algorithms'>> {
  if (!/^https?:\/\//.test(options.issuer)) throw new Error('resource guard: issuer must be an http(s) URL');
  if (!options.audience) throw new Error('resource guard: audience is required');
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.length === 0 || algorithms.some((a) => SYMMETRIC_OR_NONE.test(a))) {
    throw new Error('resource guard: algorithms must be asymmetric (never none or HS*)');
  }
  return { algorithms };
}
