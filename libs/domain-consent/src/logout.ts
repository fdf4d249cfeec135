import { invalidRequest } from '#lib/oauth-errors';

/** The claims of a verified `id_token_hint` that a logout request is checked against. */
export interface LogoutHint {
  sub: string;
  aud: readonly string[];
  sid?: string;
}

/**
 * The client a logout request names (OpenID Connect RP-Initiated Logout 1.0 §2): `client_id`, or
 * the audience of the verified `id_token_hint`. When both are given the hint must be for that
 * client (§2: "the OP MUST verify that it matches the client_id"), else `invalid_request`.
 * Undefined when the request names no client.
 */
export function logoutClientId(
  clientId: string | undefined,
  hint: LogoutHint | undefined,
): string | undefined {
  if (hint === undefined) return clientId === '' ? undefined : clientId;
  if (clientId !== undefined && clientId !== '') {
    if (!hint.aud.includes(clientId)) throw invalidRequest('client_id does not match the id_token_hint');
    return clientId;
  }
  if (hint.aud.length !== 1)
    throw invalidRequest('client_id is required with an id_token_hint of several audiences');
  return hint.aud[0];
}

/**
 * Where the browser goes once signed out (§3): `post_logout_redirect_uri` only when it is, by
 * simple string comparison, one the client registered in `post_logout_redirect_uris` (an
 * unregistered URI would make the endpoint an open redirector, RFC 9700 §4.11), with `state`
 * added to its query. Undefined otherwise: the OP's own "signed out" page.
 */
export function postLogoutRedirect(
  uri: string | undefined,
  state: string | undefined,
  registered: readonly string[] | undefined,
): string | undefined {
  if (uri === undefined || uri === '' || !(registered ?? []).includes(uri)) return undefined;
  if (state === undefined || state === '') return uri;
  const target = new URL(uri);
  target.searchParams.append('state', state);
  return target.href;
}

/**
 * Whether a logout may end the session without asking (§2: the OP MUST ask unless the verified
 * `id_token_hint` belongs to the current session): the hint names this session's `sid` and its
 * user. `sub` is compared when the client sees the user's own identifier; a pairwise `sub` (Core
 * §8.1) is tied to the session by `sid` alone, which is never shared between users.
 */
export function hintNamesSession(
  hint: LogoutHint | undefined,
  session: { sid: string; sub: string },
  pairwise: boolean,
): boolean {
  if (hint?.sid === undefined || hint.sid !== session.sid) return false;
  return pairwise || hint.sub === session.sub;
}
