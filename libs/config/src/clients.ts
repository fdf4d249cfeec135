import { z } from 'zod';
import { bool, int, settings, wordList, words } from './env.js';
import type { IssuerConfig } from './http-edge.js';
import type { OutboundConfig } from './outbound.js';

/** The client registry's own settings (the issuer and the outbound guard are read elsewhere). */
export const clientRegistrySettings = settings({
  /**
   * PRIVILEGED_SCOPES: space-separated scopes only an administrator can grant (never through RFC
   * 7591/7592). `admin` is always among them.
   */
  privilegedScopes: [
    'PRIVILEGED_SCOPES',
    z
      .string()
      .default('')
      .transform((s) => words(`admin ${s}`)),
  ],
  /**
   * REGISTRATION_ALLOWED_SCOPES: space-separated scopes a client may give itself through RFC
   * 7591/7592. Default (unset): any scope that is not privileged.
   */
  registrationAllowedScopes: [
    'REGISTRATION_ALLOWED_SCOPES',
    z.string().transform(words).nullable().default(null),
  ],
  /**
   * REGISTRATION_ALLOWED_AUDIENCES: space-separated audiences (RFC 9068 `aud`) a client may give
   * itself through RFC 7591/7592. Default: none (only an administrator sets a client's audience).
   */
  registrationAllowedAudiences: ['REGISTRATION_ALLOWED_AUDIENCES', wordList],
  /**
   * CLIENT_AUTH_MAX_FAILURES / CLIENT_AUTH_FAILURE_WINDOW_SECONDS: after this many failed client
   * authentications from one source address (any client_id) within the window, that address gets
   * 429 with Retry-After (see RFC 6749 §2.3.1, OAuth 2.1 §2.4.1). Never counted per client_id:
   * client ids are public, so a per-client lockout would let anyone lock a service out. Defaults 10
   * and 60. Counted in each process that authenticates clients (token, introspection, registry).
   */
  clientAuthMaxFailures: ['CLIENT_AUTH_MAX_FAILURES', int(1, 10000).default(10)],
  clientAuthFailureWindowSeconds: ['CLIENT_AUTH_FAILURE_WINDOW_SECONDS', int(1, 86400).default(60)],
  /**
   * OPEN_REGISTRATION: `true` lets anyone POST /register (RFC 7591 §3) without an initial access
   * token. Default `false` (RFC 7591 §3: the server may require an initial access token).
   */
  openRegistration: ['OPEN_REGISTRATION', bool.default(false)],
  /** INITIAL_ACCESS_TOKEN_TTL_SECONDS: default lifetime of an initial access token. Default 86400. */
  initialAccessTokenTtlSeconds: ['INITIAL_ACCESS_TOKEN_TTL_SECONDS', int(60, 365 * 86400).default(86400)],
  /**
   * CLIENT_SECRET_TTL_SECONDS: lifetime of a client secret, from its registration or rotation; the
   * client reads it as client_secret_expires_at, and a secret past it is refused with 401
   * invalid_client (see RFC 7591 §3.2.1). A rotation issues a fresh secret with a
   * fresh lifetime. Applies to secrets issued after it is set. Default 0: secrets never expire.
   */
  clientSecretTtlSeconds: ['CLIENT_SECRET_TTL_SECONDS', int(0, 10 * 365 * 86400).default(0)],
  /**
   * CLIENT_ASSERTION_LEGACY_AUDIENCE: `true` also accepts the token endpoint URL (`<ISSUER>/token`)
   * as the `aud` of a private_key_jwt assertion, as RFC 7523 §3 allowed, for clients not yet
   * updated. Default `false`: the issuer identifier is the only audience accepted, as a single
   * string (draft-ietf-oauth-rfc7523bis closes audience injection). Arrays are refused either way.
   */
  clientAssertionLegacyAudience: ['CLIENT_ASSERTION_LEGACY_AUDIENCE', bool.default(false)],
});

export type ClientRegistryConfig = IssuerConfig & OutboundConfig & z.output<typeof clientRegistrySettings>;
