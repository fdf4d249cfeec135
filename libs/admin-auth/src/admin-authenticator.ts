import type { ClientView } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import { AccessTokenInvalid, SIGNING_ALGS, verifyAccessToken } from '#lib/signing-keys';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { JWTVerifyGetKey } from 'jose';

/** The scope an access token needs for the admin API, granted to a client only by an administrator. */
export const ADMIN_SCOPE = 'admin';

/** Who an administrator's credential turned out to be; `actor` is what the audit records. */
export type AdminPrincipal =
  { kind: 'bootstrap'; actor: 'admin' } | { kind: 'client'; actor: `client:${string}`; clientId: string };

/** What the authenticator reads, each fresh for every command (a revocation counts at once). */
export interface AdminAuthenticatorPorts {
  /** The issuer's public keys; `kid` names a key the cached set may not hold yet. */
  keys(kid: string | undefined): Promise<JWTVerifyGetKey>;
  /** The client's registration, or null when there is none. */
  client(clientId: string): Promise<Pick<ClientView, 'status' | 'privilegedScopes'> | null>;
  /** Whether this server still considers its access token live (not revoked). */
  tokenActive(jti: string): Promise<boolean>;
}

export interface AdminAuthenticatorOptions {
  issuer: string;
  /** The admin API's audience: an access token for it carries this `aud` (RFC 9068 §4). */
  audience: string;
  /** ADMIN_TOKEN, the bootstrap credential; undefined turns it off. */
  bootstrapToken: string | undefined;
  now?: () => Date;
}

/**
 * Verifies the credential a privileged command carries, in the service that owns the command:
 * - the bootstrap ADMIN_TOKEN, compared in constant time, when the operator kept it;
 * - an RFC 9068 access token of this issuer whose `aud` names the admin API (RFC 9068 §4), with
 *   scope `admin` (RFC 6750 §3.1: otherwise insufficient_scope), issued to a client acting for
 *   itself that is active, still holds the `admin` privilege an administrator granted, and whose
 *   token was not revoked (RFC 7009 §2).
 * A user's token is insufficient_scope: users hold no admin role.
 */
export class AdminAuthenticator {
  private readonly bootstrap: Buffer | null;

  constructor(
    private readonly ports: AdminAuthenticatorPorts,
    private readonly options: AdminAuthenticatorOptions,
  ) {
    this.bootstrap =
      options.bootstrapToken === undefined
        ? null
        : createHash('sha256').update(options.bootstrapToken).digest();
  }

  async authenticate(credential: unknown): Promise<AdminPrincipal> {
    if (typeof credential !== 'string' || !/^[\x21-\x7e]{1,8192}$/.test(credential))
      throw invalidToken('admin authentication required');
    const presented = createHash('sha256').update(credential).digest();
    if (this.bootstrap !== null && timingSafeEqual(presented, this.bootstrap)) {
      return { kind: 'bootstrap', actor: 'admin' };
    }
    if (credential.split('.').length !== 3) throw invalidToken('admin authentication required');
    const claims = await this.verify(credential);
    const audiences = [claims.aud].flat();
    if (!audiences.includes(this.options.audience))
      throw invalidToken('the access token is not meant for the admin API');
    // RFC 6750 §3.1: a valid token without the needed scope is insufficient_scope (403).
    const scopes = new Set((claims.scope ?? '').split(' '));
    if (!scopes.has(ADMIN_SCOPE)) throw insufficientScope(`the admin API needs scope ${ADMIN_SCOPE}`);
    if (claims.sub !== claims.client_id) throw insufficientScope('the user holds no admin role');
    const client = await this.ports.client(claims.client_id);
    if (
      client === null ||
      client.status !== 'active' ||
      !(client.privilegedScopes ?? []).includes(ADMIN_SCOPE)
    )
      throw invalidToken('the access token is not valid');
    if (!(await this.ports.tokenActive(claims.jti))) throw invalidToken('the access token is not valid');
    return { kind: 'client', actor: `client:${claims.client_id}`, clientId: claims.client_id };
  }

  private async verify(token: string) {
    try {
      return await verifyAccessToken(token, {
        issuer: this.options.issuer,
        keys: await this.ports.keys(kidOf(token)),
        algorithms: SIGNING_ALGS,
        clockToleranceSeconds: 0,
        now: this.options.now?.(),
      });
    } catch (err) {
      if (err instanceof AccessTokenInvalid) throw invalidToken('the access token is not valid');
      throw err;
    }
  }
}

function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as unknown;
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 6750 §3.1: 401 with the Bearer challenge. */
export function invalidToken(description: string): OAuthError {
  return new OAuthError('invalid_token', description, {
    headers: { 'WWW-Authenticate': 'Bearer realm="admin", error="invalid_token"' },
  });
}

function insufficientScope(description: string): OAuthError {
  return new OAuthError('insufficient_scope', description, {
    headers: {
      'WWW-Authenticate': `Bearer realm="admin", error="insufficient_scope", scope="${ADMIN_SCOPE}"`,
    },
  });
}
