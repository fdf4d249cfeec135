import type { PresentedClientCredentials } from '#lib/contracts';
import { type JWTVerifyGetKey, jwtVerify, createLocalJWKSet, errors as joseErrors } from 'jose';
import { createHash } from 'node:crypto';
import { CLIENT_ASSERTION_ALGS, isStorableText } from '#lib/oauth-protocol';
import { clientAuthenticationFailure } from './client-authentication.js';

/** Longest lifetime accepted for an assertion (exp - now), so that the jti record stays bounded. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;

export interface VerifiedAssertion {
  clientId: string;
  jti: string;
  /** Seconds since the epoch. */
  exp: number;
}

export function localKeySet(jwks: { keys: Record<string, unknown>[] }): JWTVerifyGetKey {
  return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
}

/**
 * The values a private_key_jwt assertion's `aud` may be, each as the whole claim: the issuer
 * identifier (draft-ietf-oauth-rfc7523bis, which closes audience injection: an assertion made for
 * another server's endpoint, or for several audiences, is not accepted here), and when the
 * operator allows the legacy form, the token endpoint URL that RFC 7523 §3 item 3 allowed.
 */
export function clientAssertionAudiences(
  issuer: string,
  options: { legacyTokenEndpoint: boolean },
): string[] {
  return options.legacyTokenEndpoint ? [issuer, `${issuer}/token`] : [issuer];
}

/**
 * RFC 7523 §3 checks of a private_key_jwt assertion (RFC 7523 §2.2): a signature by one of the
 * client's registered keys with an asymmetric algorithm; iss and sub both the client_id; aud one of
 * `audiences` as a single string; exp in the future and not too far; a jti. Single use of the jti
 * is the caller's part (it needs the store). Every failure is the same invalid_client.
 */
export async function verifyClientAssertion(
  presented: PresentedClientCredentials,
  keys: JWTVerifyGetKey,
  options: { audiences: readonly string[]; now: Date },
): Promise<VerifiedAssertion> {
  const fail = (detail: string) => clientAuthenticationFailure(presented, detail);
  if (presented.clientAssertion === undefined) throw fail('no assertion');
  const nowSeconds = Math.floor(options.now.getTime() / 1000);
  let payload;
  try {
    ({ payload } = await jwtVerify(presented.clientAssertion, keys, {
      algorithms: CLIENT_ASSERTION_ALGS,
      issuer: presented.clientId,
      subject: presented.clientId,
      currentDate: options.now,
      clockTolerance: 5,
      requiredClaims: ['exp', 'jti', 'iss', 'sub', 'aud'],
    }));
  } catch (err) {
    // A key set that could not be fetched (libs/outbound-guard refusals, time and size limits) lands here too.
    const reason =
      err instanceof joseErrors.JOSEError
        ? err.code
        : err instanceof Error
          ? err.message
          : 'invalid assertion';
    throw fail(`assertion rejected: ${reason}`);
  }
  // draft-ietf-oauth-rfc7523bis: the issuer identifier is the sole audience, a JSON string, not an array.
  if (typeof payload.aud !== 'string' || !options.audiences.includes(payload.aud))
    throw fail('aud is not this server');
  const jti = payload.jti;
  // RFC 7493 §2.1: no lone surrogate (two of them would hash alike and collide as one jti).
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256 || !isStorableText(jti))
    throw fail('bad jti');
  const exp = payload.exp!;
  if (exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS) throw fail('assertion lives too long');
  return { clientId: presented.clientId, jti, exp };
}

/** One stream per used assertion: appending at version 0 twice fails, so a jti is used once. */
export function clientAssertionStreamId(clientId: string, jti: string): string {
  const digest = createHash('sha256').update(`${clientId}\u0000${jti}`).digest('base64url');
  return `client-assertion-${digest}`;
}

export interface ClientAssertionUsed {
  type: 'ClientAssertionUsed';
  data: { clientId: string; jtiHash: string; expiresAt: string };
}

const clientAssertionEventTypes: Record<ClientAssertionUsed['type'], true> = { ClientAssertionUsed: true };
/** The event types of `client-assertion-*` streams. */
export const CLIENT_ASSERTION_EVENT_TYPES = Object.keys(
  clientAssertionEventTypes,
) as readonly ClientAssertionUsed['type'][];

export function clientAssertionUsed(verified: VerifiedAssertion): ClientAssertionUsed {
  return {
    type: 'ClientAssertionUsed',
    data: {
      clientId: verified.clientId,
      jtiHash: createHash('sha256').update(verified.jti).digest('base64url'),
      expiresAt: new Date(verified.exp * 1000).toISOString(),
    },
  };
}
