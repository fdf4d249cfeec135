import type { ClientView } from '#lib/contracts';
import { matchRedirectUri } from '#lib/domain-client';
import { OAuthError, type OAuthErrorCode, sanitizeDescription } from '#lib/oauth-errors';
import { checkCodeChallenge, resolveRequestedScope } from '#lib/oauth-protocol';
import {
  type AuthenticationParameters,
  checkAuthenticationParameters,
} from './check-authentication-request.js';

/**
 * checkClientAndRedirectUri, then checkAuthorizationRequest (RFC 6749 §4.1.1 as tightened by
 * OAuth 2.1 §4.1.1 and RFC 9700 §2.1):
 * - client_id and redirect_uri first: missing, repeated or unknown client, a redirect URI not
 *   registered byte for byte (loopback IP port aside, RFC 8252 §7.3), or none sent while several are
 *   registered → an error page, never a redirect (RFC 6749 §4.1.2.1, §3.1.2.4; RFC 9700 §4.1.3).
 * - then, answered by redirect, only after the user has logged in (RFC 9700 §4.11.2, no open
 *   redirector for anonymous callers): a repeated parameter
 *   (invalid_request, RFC 6749 §3.1), response_type other than `code` (unsupported_response_type),
 *   a client not registered for authorization_code (unauthorized_client), PKCE S256 required unless a
 *   confidential client opted out (RFC 9700 §2.1.1, RFC 7636 §4.4.1), scope within the client's
 *   allowed scope or its registered default when omitted (RFC 6749 §3.3), RFC 8707 resource
 *   indicators (invalid_target), an OpenID Connect `nonce` kept for the ID token (OpenID Connect
 *   Core §3.1.2.1).
 */
export type Params = ReadonlyMap<string, readonly string[]>;

export interface AuthorizationError {
  error: OAuthErrorCode;
  description: string;
}

/** Where and how the authorization response goes (RFC 6749 §4.1.2). */
export interface ResponseTarget {
  clientId: string;
  /** redirect_uri as sent, or null when omitted (RFC 6749 §4.1.3). */
  redirectUri: string | null;
  deliveredTo: string;
  /** RFC 6749 §4.1.2: echoed exactly; absent when not sent (empty = absent) or ambiguous. */
  state?: string;
}

export interface ValidAuthorizationRequest extends ResponseTarget {
  scope: string[];
  codeChallenge: string | null;
  resource: string[];
  /** OpenID Connect Core §3.1.2.1 parameters, for a request with `openid` in scope. */
  authentication?: AuthenticationParameters;
  /** OpenID Connect Core §3.1.2.1: echoed unmodified in the ID token; absent when not sent. */
  nonce?: string;
}

export type ClientCheck =
  { status: 'rejected'; description: string } | { status: 'client-needed'; clientId: string };

const MAX_STATE_LENGTH = 4096;
const MAX_NONCE_LENGTH = 2048;
const MAX_CLIENT_ID_LENGTH = 256;
/** Parameters RFC 8707 §2 lets appear more than once. */
const MULTI_VALUED = new Set(['resource']);

function values(params: Params, name: string): string[] {
  return (params.get(name) ?? []).filter((v) => v !== '');
}

/** RFC 6749 §3.1: a parameter sent without a value is omitted; more than once is an error. */
function single(params: Params, name: string): string | undefined | 'repeated' {
  const all = params.get(name) ?? [];
  if (all.length > 1) return 'repeated';
  return all[0] === '' ? undefined : all[0];
}

export function checkClientId(params: Params): ClientCheck {
  const clientId = single(params, 'client_id');
  if (clientId === 'repeated')
    return { status: 'rejected', description: 'client_id is included more than once' };
  if (clientId === undefined) return { status: 'rejected', description: 'client_id is missing' };
  if (clientId.length > MAX_CLIENT_ID_LENGTH) return { status: 'rejected', description: 'unknown client' };
  return { status: 'client-needed', clientId };
}

export type TargetCheck =
  { status: 'rejected'; description: string } | { status: 'ok'; target: ResponseTarget };

/** The redirect URI of the response, or an error page (never a redirect, RFC 6749 §4.1.2.1). */
export function checkResponseTarget(params: Params, client: ClientView | null): TargetCheck {
  if (client === null || client.status !== 'active')
    return { status: 'rejected', description: 'unknown client' };
  const registered = client.redirectUris ?? [];
  const sent = single(params, 'redirect_uri');
  if (sent === 'repeated')
    return { status: 'rejected', description: 'redirect_uri is included more than once' };
  let deliveredTo: string;
  if (sent === undefined) {
    // OAuth 2.1 §2.3.2: omission is allowed only when exactly one URI is registered.
    if (registered.length !== 1)
      return { status: 'rejected', description: 'redirect_uri is required for this client' };
    deliveredTo = registered[0]!;
  } else {
    const match = matchRedirectUri(registered, sent);
    if (match === null)
      return { status: 'rejected', description: 'redirect_uri is not registered for this client' };
    deliveredTo = match;
  }
  const target: ResponseTarget = { clientId: client.clientId, redirectUri: sent ?? null, deliveredTo };
  const state = params.get('state') ?? [];
  // RFC 6749 §3.1: a repeated state is never picked from; an oversized one is not echoed.
  if (state.length === 1 && state[0] !== '' && state[0]!.length <= MAX_STATE_LENGTH) target.state = state[0];
  return { status: 'ok', target };
}

const fail = (error: OAuthErrorCode, description: string): { error: AuthorizationError } => ({
  error: { error, description },
});

/** Everything after the target: an error to deliver by redirect, or the validated request. */
export function checkAuthorizationRequest(
  params: Params,
  client: ClientView,
  target: ResponseTarget,
): { error: AuthorizationError } | { request: ValidAuthorizationRequest } {
  for (const [name, list] of params) {
    if (list.length > 1 && !MULTI_VALUED.has(name))
      return fail('invalid_request', `parameter included more than once: ${name}`);
  }
  const state = single(params, 'state');
  if (typeof state === 'string' && state.length > MAX_STATE_LENGTH)
    return fail('invalid_request', 'state is too long');
  const responseType = single(params, 'response_type');
  if (responseType === undefined) return fail('invalid_request', 'response_type is missing');
  // OAuth 2.1 §4.1.1, RFC 9700 §2.1.2: the code flow only; the implicit grant is refused.
  if (responseType !== 'code')
    return fail('unsupported_response_type', 'only response_type=code is supported');
  if (!client.grantTypes.includes('authorization_code'))
    return fail('unauthorized_client', 'the client may not use the authorization code grant');
  let codeChallenge: string | null;
  try {
    codeChallenge = checkCodeChallenge(
      single(params, 'code_challenge') as string | undefined,
      single(params, 'code_challenge_method') as string | undefined,
    );
  } catch (err) {
    return fail('invalid_request', (err as OAuthError).description);
  }
  // RFC 9700 §2.1.1: PKCE for every client, unless a confidential one was registered without it.
  const pkceOptional = client.tokenEndpointAuthMethod !== 'none' && client.requirePkce === false;
  if (codeChallenge === null && !pkceOptional)
    return fail('invalid_request', 'code_challenge is required (S256)');
  let scope: string[];
  try {
    scope = resolveRequestedScope(single(params, 'scope') as string | undefined, client);
  } catch (err) {
    return fail('invalid_scope', err instanceof OAuthError ? err.description : 'invalid scope');
  }
  const resource = values(params, 'resource');
  for (const r of resource) {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(r) || r.includes('#') || r.length > 2000)
      return fail('invalid_target', 'resource must be an absolute URI without a fragment');
    // RFC 8707 §2: a resource the client may not obtain tokens for (its registered audience).
    if (!client.audience.includes(r)) return fail('invalid_target', 'resource not allowed for this client');
  }
  const nonce = single(params, 'nonce');
  if (typeof nonce === 'string' && nonce.length > MAX_NONCE_LENGTH)
    return fail('invalid_request', 'nonce is too long');
  const oidc = checkAuthenticationParameters(params, scope, client);
  if ('error' in oidc) return oidc;
  return {
    request: {
      ...target,
      scope,
      codeChallenge,
      resource: [...new Set(resource)],
      ...(nonce !== undefined ? { nonce } : {}),
      ...oidc,
    },
  };
}

/**
 * The authorization response URL (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207 §2): the registered redirect
 * URI with its own query kept, plus code or error, state when one was sent, and iss.
 */
export function authorizationResponseUrl(
  target: ResponseTarget,
  issuer: string,
  outcome: { code: string } | AuthorizationError,
): string {
  const params: [string, string][] = [];
  if ('code' in outcome) params.push(['code', outcome.code]);
  else {
    params.push(['error', outcome.error]);
    params.push(['error_description', sanitizeDescription(outcome.description)]);
  }
  if (target.state !== undefined) params.push(['state', target.state]);
  params.push(['iss', issuer]);
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `${target.deliveredTo}${target.deliveredTo.includes('?') ? '&' : '?'}${query}`;
}
