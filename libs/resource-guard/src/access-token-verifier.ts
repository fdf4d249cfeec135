import { errors, jwtVerify, type JWTPayload } from 'jose';
import {
  authorizationServerUnavailable,
  BearerError,
  insufficientScope,
  invalidToken,
} from './bearer-error.js';
import { JwksCache } from './jwks-cache.js';
import { checkOptions, type ResourceGuardOptions } from './options.js';
import { missingScopes, scopesOf } from './scope.js';

/**
 * The verified claims of an access token (RFC 9068 §2.2). The server's own type is libs/contracts'
 * AccessTokenClaims; this library keeps its copy because it is installed on its own, without the
 * monorepo's libs.
 */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope?: string;
}

export interface VerifiedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  scopes: string[];
}

interface Metadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string;
}

/**
 * Validates an access token the way RFC 9068 §4 asks a resource server to: locally, against the
 * issuer's JWKS, and (for revocation-sensitive requests) with RFC 7662 introspection as well.
 */
export class AccessTokenVerifier {
  private readonly algorithms: string[];
  private readonly fetchTimeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly jwks: JwksCache;
  private metadata: Promise<Metadata> | undefined;

  constructor(readonly options: ResourceGuardOptions) {
    ({ algorithms: this.algorithms, fetchTimeoutMs: this.fetchTimeoutMs } = checkOptions(options));
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.jwks = new JwksCache({
      jwksUri: async () => (await this.discover()).jwks_uri,
      fetch: this.fetch,
      now: this.now,
      minAgeSeconds: options.jwksMinAgeSeconds ?? 30,
      maxAgeSeconds: options.jwksMaxAgeSeconds ?? 600,
      timeoutMs: this.fetchTimeoutMs,
    });
  }

  get jwksFetches(): number {
    return this.jwks.fetches;
  }

  /**
   * RFC 9068 §4: typ at+jwt, an allowed asymmetric alg, a key of the issuer's JWKS, iss equal to
   * the issuer, aud naming this resource server, exp (with leeway) in the future; then the scopes.
   * Every failure of the token itself is invalid_token (RFC 6750 §3.1).
   */
  async verify(
    token: string,
    requirements: { scopes?: readonly string[]; revocationSensitive?: boolean } = {},
  ): Promise<VerifiedAccessToken> {
    let claims: AccessTokenClaims;
    try {
      const result = await jwtVerify(token, this.jwks.resolve, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.algorithms,
        typ: 'at+jwt',
        clockTolerance: this.options.leewaySeconds ?? 30,
        currentDate: new Date(this.now()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      });
      claims = result.payload as AccessTokenClaims;
    } catch (err) {
      throw this.describe(err);
    }
    const scopes = scopesOf(claims.scope);
    const missing = missingScopes(requirements.scopes ?? [], scopes);
    // RFC 6750 §3.1: insufficient_scope names the scope necessary to access the resource.
    if (missing.length > 0) throw insufficientScope([...(requirements.scopes ?? [])]);
    if (requirements.revocationSensitive) await this.introspect(token, claims);
    return { token, claims, scopes };
  }

  private describe(err: unknown): BearerError {
    if (err instanceof BearerError) return err;
    if (err instanceof errors.JWTExpired) return invalidToken('the access token expired');
    if (err instanceof errors.JWTClaimValidationFailed) {
      return invalidToken(`the access token is invalid (${err.claim})`);
    }
    if (err instanceof errors.JOSEAlgNotAllowed) return invalidToken('the access token is invalid (alg)');
    if (err instanceof errors.JWKSNoMatchingKey) return invalidToken('the access token is invalid (kid)');
    if (err instanceof errors.JOSEError) return invalidToken('the access token is invalid');
    // The JWKS or metadata could not be fetched: the token cannot be judged.
    return authorizationServerUnavailable('the authorization server cannot be reached to check the token');
  }

  /** RFC 7662 §2: ask the authorization server; anything but active:true refuses (fail closed). */
  private async introspect(token: string, claims: AccessTokenClaims): Promise<void> {
    const credentials = this.options.introspection;
    if (!credentials) {
      throw authorizationServerUnavailable(
        'this resource server has no introspection credentials configured',
      );
    }
    let active: unknown;
    try {
      const { introspection_endpoint: endpoint } = await this.discover();
      if (!endpoint) throw new Error('the authorization server advertises no introspection_endpoint');
      const basic = Buffer.from(
        `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
      ).toString('base64');
      const res = await this.fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(this.fetchTimeoutMs),
      });
      if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
      const body = (await res.json()) as { active?: unknown; jti?: unknown };
      active = body.active === true && (body.jti === undefined || body.jti === claims.jti);
    } catch {
      throw authorizationServerUnavailable('the authorization server cannot be reached to check the token');
    }
    if (active !== true) throw invalidToken('the access token is no longer active');
  }

  private discover(): Promise<Metadata> {
    this.metadata ??= (async () => {
      // RFC 8414 §3: the metadata document lives under the issuer's well-known path.
      const url = new URL(this.options.issuer);
      const path = url.pathname === '/' ? '' : url.pathname;
      const res = await this.fetch(`${url.origin}/.well-known/oauth-authorization-server${path}`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.fetchTimeoutMs),
      });
      if (res.status !== 200) throw new Error(`metadata answered ${res.status}`);
      const metadata = (await res.json()) as Metadata;
      // RFC 8414 §3.3: the issuer in the document must be the one configured.
      if (metadata.issuer !== this.options.issuer || typeof metadata.jwks_uri !== 'string') {
        throw new Error('metadata issuer mismatch');
      }
      return metadata;
    })().catch((err: unknown) => {
      this.metadata = undefined;
      throw err;
    });
    return this.metadata;
  }
}
