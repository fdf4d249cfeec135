import { ConfigError, type Env, str } from './env.js';
import type { IssuerConfig } from './http-edge.js';

/** What every service that owns a privileged command needs to verify an administrator itself. */
export interface AdminAuthConfig extends IssuerConfig {
  /**
   * ADMIN_AUDIENCE: the `aud` of access tokens for the admin API (RFC 9068 §4); a client an
   * administrator granted `admin` gets tokens with this audience. Default `<ISSUER>/admin`.
   */
  adminAudience: string;
  /**
   * ADMIN_TOKEN: the bootstrap credential of the admin API and the CLI (at least 32 characters),
   * for the first admin client and emergencies. Optional: unset, only access tokens are accepted.
   */
  adminToken: string | undefined;
}

export function readAdminAudience(env: Env, issuer: string): Pick<AdminAuthConfig, 'adminAudience'> {
  return { adminAudience: str(env, 'ADMIN_AUDIENCE', `${issuer}/admin`) };
}

/** ADMIN_TOKEN, read when first used. */
export function readAdminToken(env: Env): string | undefined {
  const t = env.ADMIN_TOKEN || undefined;
  if (t !== undefined && t.length < 32) throw new ConfigError('ADMIN_TOKEN must be at least 32 characters');
  return t;
}
