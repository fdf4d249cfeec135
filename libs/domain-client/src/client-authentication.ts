import { BASIC_CHALLENGE } from '#lib/oauth-protocol';
import type { Keyset } from '#lib/keysets';
import type { ClientView, PresentedClientCredentials } from '#lib/contracts';
import { invalidClient, type OAuthError } from '#lib/oauth-errors';
import { usesSecret } from './client-metadata.js';
import { type ClientState, clientView, isKnownClient, type KnownClientState } from './client-state.js';
import { secretMatches } from './secret.js';

/**
 * Client authentication (RFC 6749 §2.3.1, §5.2): unknown client, wrong secret and the wrong
 * method all answer the same invalid_client, so the response does not tell which one it was.
 * The registered token_endpoint_auth_method is enforced (RFC 7591 §2). A disabled or deleted
 * client does not authenticate, nor does a secret past its client_secret_expires_at (RFC 7591
 * §3.2.1). `now` is the instant of the request.
 */

/** Compared against when there is no stored hash, so that every path costs one HMAC. */
const DUMMY_HASH = 'A'.repeat(43);

/** RFC 7592 §3: the registration access token, compared as a hash in constant time. */
export function registrationAccessTokenMatches(state: ClientState, token: string, keys: Keyset): boolean {
  if (!isKnownClient(state) || state.registrationAccessTokenHash === null) {
    secretMatches(token, DUMMY_HASH, keys);
    return false;
  }
  return secretMatches(token, state.registrationAccessTokenHash, keys);
}

/** RFC 7591 §3.2.1: a secret is refused from its client_secret_expires_at on. */
export function secretExpired(expiresAt: string | null, now: Date): boolean {
  return expiresAt !== null && now.getTime() >= Date.parse(expiresAt);
}

export function clientAuthenticationFailure(
  presented: PresentedClientCredentials,
  detail: string,
): OAuthError {
  const challenge =
    presented.method === 'client_secret_basic' ? { 'WWW-Authenticate': BASIC_CHALLENGE } : undefined;
  return invalidClient('client authentication failed', { detail, headers: challenge });
}

export function authenticateClient(
  state: ClientState,
  presented: PresentedClientCredentials,
  keys: Keyset,
  now: Date = new Date(),
): ClientView {
  const fail = (detail: string) => clientAuthenticationFailure(presented, detail);
  if (state.status !== 'active') {
    // An unknown client costs the same HMAC as a known one, so timing does not tell which exist.
    secretMatches(presented.clientSecret ?? '', DUMMY_HASH, keys);
    throw fail(state.status === 'disabled' ? 'client disabled' : 'unknown client');
  }
  if (state.tokenEndpointAuthMethod !== presented.method) throw fail('authentication method not registered');
  if (presented.method === 'none') {
    // RFC 7591 §2 `none`: a public client presents no credential.
    if (presented.clientSecret !== undefined || presented.clientAssertion !== undefined)
      throw fail('public client sent a credential');
    return clientView(state);
  }
  // private_key_jwt is checked by verifyClientAssertion (async); this is the secret path only.
  if (!usesSecret(presented.method)) throw fail('not a secret method');
  if (state.secretHash === null || presented.clientSecret === undefined) throw fail('no secret');
  if (secretMatches(presented.clientSecret, state.secretHash, keys)) {
    // RFC 7591 §3.2.1: an expired secret is answered like a wrong one.
    if (secretExpired(state.secretExpiresAt, now)) throw fail('secret expired');
    return clientView(state);
  }
  // After a rotation, the previous secret during its grace period.
  if (
    state.previousSecretHash !== null &&
    state.previousSecretValidUntil !== null &&
    now.getTime() < Date.parse(state.previousSecretValidUntil) &&
    secretMatches(presented.clientSecret, state.previousSecretHash, keys)
  )
    return clientView(state);
  throw fail('wrong secret');
}

/** The client a private_key_jwt assertion claims to be, if it may use that method at all. */
export function clientForAssertion(
  state: ClientState,
  presented: PresentedClientCredentials,
): KnownClientState {
  const fail = (detail: string) => clientAuthenticationFailure(presented, detail);
  if (state.status !== 'active') throw fail('unknown or disabled client');
  if (state.tokenEndpointAuthMethod !== 'private_key_jwt' || presented.method !== 'private_key_jwt')
    throw fail('authentication method not registered');
  return state;
}
