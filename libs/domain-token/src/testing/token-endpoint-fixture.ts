import { Keyset } from '#lib/keysets';
import type { AccessTokenClaims, ClientView, TokenResponse } from '#lib/contracts';
import {
  decideGrant,
  grantStreamId,
  hashGrantToken,
  initialGrantState,
  mintGrantToken,
  newGrantId,
} from '#lib/domain-grant';
import type { EventStore, StreamExpectation } from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';
import { s256 } from '#lib/oauth-protocol';
import { authorizationCodeGrant } from '../grants/authorization-code.grant.js';
import { clientCredentialsGrant } from '../grants/client-credentials.grant.js';
import { GrantRegistry } from '../grants/grant-registry.js';
import { refreshTokenGrant } from '../grants/refresh-token.grant.js';
import { GrantStateCache } from '../grant-state-cache.js';
import { TokenEndpoint } from '../token-endpoint.js';

/**
 * The token endpoint over a given event store, with the security tests' fixture clients, a
 * movable clock and a signer whose "JWT" is the claims in clear (the real signing is the keyring's
 * and is tested there): for unit tests (in-memory store) and integration tests (Postgres).
 */
export const ISSUER = 'https://as.test';
/** SECRET_HASH_KEYS of the fixture: one key, `h1`. */
export const SECRET_HASH_KEYS = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 7) }]);
export const VERIFIER = 'A-._~z'.repeat(7) + 'x';
export const CHALLENGE = s256(VERIFIER);

const base: ClientView = {
  clientId: 'c1',
  clientName: 'C1',
  status: 'active',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['authorization_code', 'refresh_token'],
  scope: ['read', 'write'],
  defaultScope: ['read'],
  audience: ['https://api.test'],
  redirectUris: ['https://c1.test/cb'],
};

export const clients = {
  c1: base,
  c2: { ...base, clientId: 'c2', clientName: 'C2', redirectUris: ['https://c2.test/cb'] },
  c3: { ...base, clientId: 'c3', redirectUris: ['https://c3.test/cb', 'https://c3.test/cb2'] },
  /** Code grant only: no refresh token. */
  codeOnly: { ...base, clientId: 'code-only', grantTypes: ['authorization_code'] },
  p1: { ...base, clientId: 'p1', tokenEndpointAuthMethod: 'none', redirectUris: ['https://p1.test/cb'] },
  p2: { ...base, clientId: 'p2', tokenEndpointAuthMethod: 'none', redirectUris: ['https://p2.test/cb'] },
  s1: { ...base, clientId: 's1', grantTypes: ['client_credentials'], scope: ['read'] },
} satisfies Record<string, ClientView>;

export interface SeedCode {
  client?: ClientView;
  scope?: string[];
  resource?: string[];
  /** The redirect_uri sent at /authorize (null: omitted). Default: the client's first. */
  redirectUri?: string | null;
  /** The code_challenge (null: none). Default: CHALLENGE. */
  codeChallenge?: string | null;
  ttlSeconds?: number;
  sub?: string;
  /** OpenID Connect facts of the authentication (nonce, sid, amr, acr). */
  openId?: { nonce?: string; sid?: string; amr?: string[]; acr?: string };
}

/** The fixture's ACCESS_TOKEN_MAX_TTL_SECONDS (its default lifetime is 600). */
export const ACCESS_TOKEN_MAX_TTL_SECONDS = 3600;

export class TokenEndpointFixture {
  now = new Date('2030-01-01T00:00:00Z');
  readonly endpoint: TokenEndpoint;
  /** A token hashed under the current key (a new grant's code). */
  readonly hash = (token: string) => hashGrantToken(token, this.secretHashKeys);

  constructor(
    readonly store: EventStore,
    lifetimes: { idle?: number; absolute?: number; maxAbsolute?: number; maxRotations?: number } = {},
    readonly grantStates: GrantStateCache = new GrantStateCache(),
    readonly secretHashKeys: Keyset = SECRET_HASH_KEYS,
  ) {
    const config = {
      issuer: ISSUER,
      adminAudience: `${ISSUER}/admin`,
      accessTokenTtlSeconds: 600,
      accessTokenMaxTtlSeconds: ACCESS_TOKEN_MAX_TTL_SECONDS,
      idTokenTtlSeconds: 3600,
      refreshTokenIdleTtlSeconds: lifetimes.idle ?? 3600,
      refreshTokenAbsoluteTtlSeconds: lifetimes.absolute ?? 86400,
      refreshTokenMaxTtlSeconds: lifetimes.maxAbsolute ?? Math.max(lifetimes.absolute ?? 86400, 7 * 86400),
      refreshTokenMaxRotations: lifetimes.maxRotations ?? 10_000,
      secretHashKeys,
    };
    const registry = new GrantRegistry([
      clientCredentialsGrant(config),
      authorizationCodeGrant(config),
      refreshTokenGrant(config),
    ]);
    this.endpoint = new TokenEndpoint(store, registry, ISSUER, () => this.now, grantStates);
  }

  advance(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }

  /** Issues a code the way the consent service does (IssueAuthorizationCode on a new grant stream). */
  async seedCode(o: SeedCode = {}): Promise<string> {
    const client = o.client ?? clients.c1;
    const grantId = newGrantId();
    const code = mintGrantToken(grantId);
    const deliveredTo = client.redirectUris![0]!;
    const { events } = decideGrant(
      {
        type: 'IssueAuthorizationCode',
        grantId,
        clientId: client.clientId,
        sub: o.sub ?? 'sub-alice',
        username: 'alice',
        scope: o.scope ?? ['read', 'write'],
        ...(o.resource ? { resource: o.resource } : {}),
        redirectUri: o.redirectUri === undefined ? deliveredTo : o.redirectUri,
        deliveredTo: o.redirectUri ?? deliveredTo,
        codeChallenge: o.codeChallenge === undefined ? CHALLENGE : o.codeChallenge,
        codeHash: this.hash(code),
        authTime: Math.floor(this.now.getTime() / 1000),
        ...o.openId,
        now: this.now,
        ttlSeconds: o.ttlSeconds ?? 60,
      },
      initialGrantState(),
    );
    await this.store.appendToStream(grantStreamId(grantId), 0, events);
    return code;
  }

  exchange(
    client: ClientView,
    parameters: Record<string, string>,
    resources: string[] = [],
    expect?: StreamExpectation[],
  ) {
    return this.endpoint.exchange(
      { client, parameters, resources, correlationId: 'test', ...(expect ? { expect } : {}) },
      {
        kid: 'k1',
        sign: async (claims) => `claims.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`,
        signIdToken: async (alg, claims) =>
          `idtoken.${alg}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`,
      },
    );
  }

  redeem(
    code: string,
    o: { client?: ClientView; extra?: Record<string, string>; resources?: string[] } = {},
  ) {
    const client = o.client ?? clients.c1;
    return this.exchange(
      client,
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: VERIFIER,
        redirect_uri: client.redirectUris![0]!,
        ...o.extra,
      },
      o.resources,
    );
  }

  refresh(refreshToken: string, o: { client?: ClientView; scope?: string; resources?: string[] } = {}) {
    return this.exchange(
      o.client ?? clients.c1,
      {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        ...(o.scope !== undefined ? { scope: o.scope } : {}),
      },
      o.resources,
    );
  }

  /** The grant stream's event types, in order. */
  async grantEvents(tokenOrCode: string): Promise<string[]> {
    const events = await this.store.readStream(grantStreamId(tokenOrCode.slice(0, 22)));
    return events.map((e) => e.type);
  }
}

export function claimsOf(response: TokenResponse): AccessTokenClaims {
  return JSON.parse(Buffer.from(response.access_token.slice(7), 'base64url').toString()) as AccessTokenClaims;
}

/** The fixture's ID token: its alg and claims (null when the response has none). */
export function idTokenOf(response: TokenResponse): { alg: string; claims: Record<string, unknown> } | null {
  if (response.id_token === undefined) return null;
  const [, alg, claims] = response.id_token.split('.');
  return {
    alg: alg!,
    claims: JSON.parse(Buffer.from(claims!, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** The OAuthError a promise rejects with (fails the test when it resolves). */
export async function refusalOf(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OAuthError) return err;
    throw err;
  }
  throw new Error('expected an OAuth error, got tokens');
}
