import { bool, type Env, int, words } from './env.js';
import type { IssuerConfig } from './http-edge.js';
import type { OutboundConfig } from './outbound.js';

export interface ClientRegistryConfig extends IssuerConfig, OutboundConfig {
  /**
   * PRIVILEGED_SCOPES: space-separated scopes only an administrator can grant (never through RFC
   * 7591/7592). `admin` is always among them.
   */
  privilegedScopes: string[];
  /**
   * REGISTRATION_ALLOWED_SCOPES: space-separated scopes a client may give itself through RFC
   * 7591/7592. Default (unset): any scope that is not privileged.
   */
  registrationAllowedScopes: string[] | null;
  /**
   * REGISTRATION_ALLOWED_AUDIENCES: space-separated audiences (RFC 9068 `aud`) a client may give
   * itself through RFC 7591/7592. Default: none (only an administrator sets a client's audience).
   */
  registrationAllowedAudiences: string[];
  /**
   * CLIENT_AUTH_MAX_FAILURES / CLIENT_AUTH_FAILURE_WINDOW_SECONDS: after this many failed client
   * authentications from one source address (any client_id) within the window, that address gets
   * 429 with Retry-After (see RFC 6749 §2.3.1, OAuth 2.1 §2.4.1). Never counted per client_id:
   * client ids are public, so a per-client lockout would let anyone lock a service out. Defaults 10
   * and 60. Counted in each process that authenticates clients (token, introspection, registry).
   */
  clientAuthMaxFailures: number;
  clientAuthFailureWindowSeconds: number;
  /**
   * OPEN_REGISTRATION: `true` lets anyone POST /register (RFC 7591 §3) without an initial access
   * token. Default `false` (RFC 7591 §3: the server may require an initial access token).
   */
  openRegistration: boolean;
  /** INITIAL_ACCESS_TOKEN_TTL_SECONDS: default lifetime of an initial access token. Default 86400. */
  initialAccessTokenTtlSeconds: number;
  /**
   * CLIENT_SECRET_TTL_SECONDS: lifetime of a client secret, from its registration or rotation; the
   * client reads it as client_secret_expires_at, and a secret past it is refused with 401
   * invalid_client (see RFC 7591 §3.2.1). A rotation issues a fresh secret with a
   * fresh lifetime. Applies to secrets issued after it is set. Default 0: secrets never expire.
   */
  clientSecretTtlSeconds: number;
  /**
   * CLIENT_ASSERTION_LEGACY_AUDIENCE: `true` also accepts the token endpoint URL (`<ISSUER>/token`)
   * as the `aud` of a private_key_jwt assertion, as RFC 7523 §3 allowed, for clients not yet
   * updated. Default `false`: the issuer identifier is the only audience accepted, as a single
   * string (draft-ietf-oauth-rfc7523bis closes audience injection). Arrays are refused either way.
   */
  clientAssertionLegacyAudience: boolean;
}

/** The client registry's own settings (the issuer and the outbound guard are read elsewhere). */
export function readClientRegistrySettings(
  env: Env,
): Omit<ClientRegistryConfig, keyof IssuerConfig | keyof OutboundConfig> {
  return {
    privilegedScopes: [...new Set(['admin', ...words(env.PRIVILEGED_SCOPES)])],
    registrationAllowedScopes: env.REGISTRATION_ALLOWED_SCOPES
      ? words(env.REGISTRATION_ALLOWED_SCOPES)
      : null,
    registrationAllowedAudiences: words(env.REGISTRATION_ALLOWED_AUDIENCES),
    clientAuthMaxFailures: int(env, 'CLIENT_AUTH_MAX_FAILURES', 10, 1, 10000),
    clientAuthFailureWindowSeconds: int(env, 'CLIENT_AUTH_FAILURE_WINDOW_SECONDS', 60, 1, 86400),
    openRegistration: bool(env, 'OPEN_REGISTRATION', false),
    initialAccessTokenTtlSeconds: int(env, 'INITIAL_ACCESS_TOKEN_TTL_SECONDS', 86400, 60, 365 * 86400),
    clientSecretTtlSeconds: int(env, 'CLIENT_SECRET_TTL_SECONDS', 0, 0, 10 * 365 * 86400),
    clientAssertionLegacyAudience: bool(env, 'CLIENT_ASSERTION_LEGACY_AUDIENCE', false),
  };
}
