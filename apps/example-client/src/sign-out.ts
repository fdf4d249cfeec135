import * as oauth from 'oauth4webapi';
import type { ExampleClientConfig } from '#lib/config';
import type { Choreography, Session } from './choreography.js';
import type { Exchange } from './recorder.js';

/** Where the end-session endpoint sends the browser back (registered for the Example App). */
export const postLogoutRedirectUri = (config: ExampleClientConfig) => `${config.url}/signed-out`;

/**
 * OpenID Connect RP-Initiated Logout 1.0 §2: the client forgets its tokens, then sends the browser
 * to the end-session endpoint with the ID token it holds as id_token_hint (so the server ends the
 * session without asking), its registered post_logout_redirect_uri and a state it keeps.
 */
export async function signOut(
  flow: Choreography,
  config: ExampleClientConfig,
  session: Session,
): Promise<string> {
  const exchanges: Exchange[] = [];
  const as = await flow.discover(exchanges);
  const url = new URL(as.end_session_endpoint ?? `${config.issuer}/logout`);
  const state = oauth.generateRandomState();
  url.searchParams.set('client_id', config.clientId);
  if (session.idToken) url.searchParams.set('id_token_hint', session.idToken.token);
  url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri(config));
  url.searchParams.set('state', state);
  session.pendingSignOut = { state };
  delete session.tokens;
  delete session.idToken;
  flow.record(session, {
    title: 'Sign out: end-session endpoint',
    explain:
      'The client forgets its tokens and sends the browser to the end_session_endpoint of the discovery document (OpenID Connect RP-Initiated Logout 1.0 §2) with the ID token as id_token_hint, its registered post_logout_redirect_uri and a state: the server ends the browser session without a confirmation page and sends the browser back.',
    exchanges,
    browser: url.href,
    outcome: 'browser redirected to the end-session endpoint',
    ok: true,
  });
  return url.href;
}

/** RP-Initiated Logout 1.0 §3: back at post_logout_redirect_uri, with the state the client sent. */
export function signedOut(flow: Choreography, session: Session, currentUrl: URL): void {
  const expected = session.pendingSignOut?.state;
  delete session.pendingSignOut;
  const ok = expected !== undefined && currentUrl.searchParams.get('state') === expected;
  flow.record(session, {
    title: ok ? 'Signed out' : 'Sign out: unexpected return',
    explain:
      'The end-session endpoint sent the browser back to the registered post_logout_redirect_uri with the state the client sent (RP-Initiated Logout 1.0 §3); the session at the authorization server has ended.',
    exchanges: [],
    browser: currentUrl.href,
    outcome: ok
      ? 'signed out at the authorization server'
      : 'refused: the state is not the one this session sent',
    ok,
  });
}
