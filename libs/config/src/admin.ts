import { z } from 'zod';
import { ISSUER, settings } from './env.js';
import type { IssuerConfig } from './http-edge.js';

export const adminAudienceSettings = settings({
  issuer: ISSUER,
  /**
   * ADMIN_AUDIENCE: the `aud` of access tokens for the admin API (RFC 9068 §4); a client an
   * administrator granted `admin` gets tokens with this audience. Default `<ISSUER>/admin`.
   */
  adminAudience: ['ADMIN_AUDIENCE', z.string().optional()],
}).transform(({ issuer, adminAudience }) => ({ adminAudience: adminAudience ?? `${issuer}/admin` }));

/** ADMIN_TOKEN, read when first used. */
export const adminTokenSettings = settings({
  /**
   * ADMIN_TOKEN: the bootstrap credential of the admin API and the CLI (at least 32 characters),
   * for the first admin client and emergencies. Optional: unset, only access tokens are accepted.
   */
  adminToken: ['ADMIN_TOKEN', z.string().min(32, 'must be at least 32 characters').optional()],
});

/** What every service that owns a privileged command needs to verify an administrator itself. */
export type AdminAuthConfig = IssuerConfig &
  z.output<typeof adminAudienceSettings> &
  z.output<typeof adminTokenSettings>;
