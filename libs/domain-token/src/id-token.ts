import { createHash } from 'node:crypto';
import type { ClientView } from '#lib/contracts';
import type { GrantFacts } from '#lib/domain-grant';
import type { IdTokenSigningAlg } from '#lib/oauth-protocol';
import { subjectFor } from './subject.js';

/** OpenID Connect Core §3.1.2.1: the scope value that makes a request an OpenID Connect request. */
export const OPENID_SCOPE = 'openid';
/** OpenID Connect Core §11: the scope value that asks for a refresh token in an OpenID request. */
export const OFFLINE_ACCESS_SCOPE = 'offline_access';

/** OpenID Connect Core §2 and §3.1.3.6: the claims of an ID token this server issues. */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  auth_time: number;
  nonce?: string;
  acr?: string;
  amr?: string[];
  sid?: string;
  at_hash?: string;
  /** Core §5.1, §5.5: user claims, when the request's `claims` parameter named them. */
  name?: string;
  preferred_username?: string;
  email?: string;
  email_verified?: boolean;
}

/** What the token endpoint signs beside the access token: claims, and the alg the client registered. */
export interface IdTokenPlan {
  alg: IdTokenSigningAlg;
  claims: Omit<IdTokenClaims, 'at_hash'>;
  /**
   * OpenID Connect Core §5.5: the user claims the grant's request named for the ID token, read from
   * the user (`sub`: the grant's own subject) when the token is signed; absent when none.
   */
  userClaims?: { sub: string; names: string[] };
}

/** ID_TOKEN_TTL_SECONDS' default (libs/config). */
export const DEFAULT_ID_TOKEN_TTL_SECONDS = 3600;

export interface IdTokenConfig {
  issuer: string;
  /** PAIRWISE_SUBJECT_KEY, read when a pairwise client first needs it (Core §8.1). */
  pairwiseSubjectKey?: () => Buffer;
  /** ID_TOKEN_TTL_SECONDS; DEFAULT_ID_TOKEN_TTL_SECONDS when absent. */
  idTokenTtlSeconds?: number;
}

/**
 * buildIdTokenClaims (OpenID Connect Core §2, §3.1.3.6; §12.2 for a refresh):
 * - iss, sub (the grant's subject as the client sees it), aud = the client_id alone (so `azp` is
 *   not needed, §2), exp, iat, auth_time (always: the grant keeps the authentication time; so also
 *   whenever §2 requires it: require_auth_time, max_age or default_max_age);
 * - nonce exactly as the authorization request sent it, at the code exchange only: an ID token
 *   from a refresh carries none (§12.2 says its nonce SHOULD NOT be present);
 * - acr, amr and sid when the authentication recorded them.
 */
export function buildIdTokenClaims(
  config: IdTokenConfig,
  grant: Pick<GrantFacts, 'authTime' | 'nonce' | 'acr' | 'amr' | 'sid'>,
  issue: { sub: string; clientId: string; now: Date; exchange: 'code' | 'refresh' },
): Omit<IdTokenClaims, 'at_hash'> {
  const iat = Math.floor(issue.now.getTime() / 1000);
  return {
    iss: config.issuer,
    sub: issue.sub,
    aud: issue.clientId,
    exp: iat + (config.idTokenTtlSeconds ?? DEFAULT_ID_TOKEN_TTL_SECONDS),
    iat,
    auth_time: grant.authTime,
    ...(issue.exchange === 'code' && grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
    ...(grant.acr !== undefined ? { acr: grant.acr } : {}),
    ...(grant.amr !== undefined && grant.amr.length > 0 ? { amr: grant.amr } : {}),
    ...(grant.sid !== undefined ? { sid: grant.sid } : {}),
  };
}

/** OpenID Connect Registration §2 `id_token_signed_response_alg`: RS256 unless the client chose another. */
export function idTokenAlgOf(client: Pick<ClientView, 'idTokenSignedResponseAlg'>): IdTokenSigningAlg {
  return client.idTokenSignedResponseAlg ?? 'RS256';
}

/**
 * OpenID Connect Core §3.1.3.8 `at_hash`: the base64url of the left-most half of the hash of the
 * access token's ASCII octets, with the hash of the ID token's `alg`: SHA-256 for RS256 and ES256;
 * SHA-512 for EdDSA over Ed25519 (the hash Ed25519 itself uses, RFC 8032 §5.1).
 */
export function accessTokenHash(accessToken: string, alg: IdTokenSigningAlg): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(accessToken, 'ascii')
    .digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Whether a granted scope makes the exchange an OpenID Connect one (Core §3.1.2.1). */
export const isOpenIdScope = (scope: readonly string[]): boolean => scope.includes(OPENID_SCOPE);

/** The ID token a user's grant issues with its access token, when the issued scope has `openid`. */
export function idTokenPlan(
  config: IdTokenConfig,
  grant: Pick<GrantFacts, 'sub' | 'authTime' | 'nonce' | 'acr' | 'amr' | 'sid' | 'claims'>,
  client: Pick<
    ClientView,
    'clientId' | 'idTokenSignedResponseAlg' | 'subjectType' | 'redirectUris' | 'sectorIdentifierUri'
  >,
  scope: readonly string[],
  issue: { now: Date; exchange: 'code' | 'refresh' },
): { idToken?: IdTokenPlan } {
  if (!isOpenIdScope(scope)) return {};
  const claims = buildIdTokenClaims(config, grant, {
    sub: subjectFor(grant.sub, client, config.pairwiseSubjectKey ?? noPairwiseKey),
    clientId: client.clientId,
    now: issue.now,
    exchange: issue.exchange,
  });
  const names = grant.claims?.idToken ?? [];
  return {
    idToken: {
      alg: idTokenAlgOf(client),
      claims,
      ...(names.length > 0 ? { userClaims: { sub: grant.sub, names } } : {}),
    },
  };
}

const noPairwiseKey = (): Buffer => {
  throw new Error('PAIRWISE_SUBJECT_KEY is not configured for pairwise subjects');
};
