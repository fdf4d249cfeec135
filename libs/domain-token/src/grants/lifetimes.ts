import type { ClientView } from '#lib/contracts';

/**
 * Token lifetimes: the server's caps, which a client's metadata may lower but never raise,
 * whoever registered it (RFC 7591 §2: the server "MAY reject or replace any of the client's
 * requested metadata values"; RFC 9700 §2.2.2 and §4.14.2: short-lived access tokens, bounded
 * refresh tokens). The registration policy keeps a self-registered client at the defaults; an
 * administrator may go up to the caps; whatever is registered, issuance never exceeds them, so an
 * operator who lowers a cap lowers every client at once.
 */
export interface AccessTokenLifetimeConfig {
  /** ACCESS_TOKEN_TTL_SECONDS: the lifetime of a client that names none. */
  accessTokenTtlSeconds: number;
  /** ACCESS_TOKEN_MAX_TTL_SECONDS: no access token lives longer (at least the default). */
  accessTokenMaxTtlSeconds: number;
}

export interface RefreshTokenConfig {
  /** REFRESH_TOKEN_IDLE_TTL_SECONDS: a refresh token unused this long expires (RFC 9700 §4.14.2). */
  refreshTokenIdleTtlSeconds: number;
  /** REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: the family's whole life, from the code's redemption. */
  refreshTokenAbsoluteTtlSeconds: number;
  /** REFRESH_TOKEN_MAX_TTL_SECONDS: no family lives longer (at least the default). */
  refreshTokenMaxTtlSeconds: number;
  /** REFRESH_TOKEN_MAX_ROTATIONS: the family ends after this many rotations. */
  refreshTokenMaxRotations: number;
}

/** RFC 6749 §5.1 `expires_in`: the client's access_token_ttl_seconds or the default, within the cap. */
export function accessTokenLifetime(
  config: AccessTokenLifetimeConfig,
  client: Pick<ClientView, 'accessTokenTtlSeconds'>,
): number {
  return Math.min(
    client.accessTokenTtlSeconds ?? config.accessTokenTtlSeconds,
    config.accessTokenMaxTtlSeconds,
  );
}

/**
 * A client's `refresh_token_ttl_seconds`, where set, is its family's absolute lifetime, within the
 * cap; the idle lifetime is never longer than that.
 */
export function refreshTokenLifetimes(
  config: RefreshTokenConfig,
  client: Pick<ClientView, 'refreshTokenTtlSeconds'>,
): { idleTtlSeconds: number; absoluteTtlSeconds: number } {
  const absoluteTtlSeconds = Math.min(
    client.refreshTokenTtlSeconds ?? config.refreshTokenAbsoluteTtlSeconds,
    config.refreshTokenMaxTtlSeconds,
  );
  return {
    absoluteTtlSeconds,
    idleTtlSeconds: Math.min(config.refreshTokenIdleTtlSeconds, absoluteTtlSeconds),
  };
}
