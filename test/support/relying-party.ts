import * as client from 'openid-client';
import { authorize, type AuthorizeResult, type CookieJar, pkcePair } from './authorize.js';
import { basic, postForm, type RunningSystem } from './system.js';

/**
 * A relying party of the test system: registered by the administrator, its users signed in through
 * the login and consent pages (test/support/authorize.ts), either by hand (raw requests an attack
 * test can bend) or with openid-client (panva) in its default strict mode, the recipe of
 * docs/openid-connect.md.
 */

export const RP_REDIRECT_URI = 'https://rp.test/cb';

export interface RegisteredClient {
  client_id: string;
  client_secret: string;
}

export interface TokenResponse {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
}

/** A client registered by the administrator (POST /admin/clients); a refusal fails the test. */
export async function registerClient(
  system: RunningSystem,
  doc: Record<string, unknown>,
): Promise<RegisteredClient> {
  const res = await fetch(`${system.adminUrl}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(doc),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as RegisteredClient;
}

export interface UserSignIn {
  username: string;
  password: string;
  scope: string;
  redirectUri?: string;
  /** Extra authorization request parameters, sent as given. */
  extra?: Record<string, string>;
}

/** The authorization request with a fresh PKCE pair (RFC 7636), through the login and consent pages. */
export async function authorizeWithPkce(
  system: RunningSystem,
  registered: RegisteredClient,
  o: UserSignIn,
): Promise<{ result: AuthorizeResult; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const result = await authorize(system, {
    clientId: registered.client_id,
    redirectUri: o.redirectUri ?? RP_REDIRECT_URI,
    scope: o.scope,
    codeChallenge: challenge,
    username: o.username,
    password: o.password,
    ...(o.extra !== undefined ? { extra: o.extra } : {}),
  });
  return { result, verifier };
}

/** A user's tokens for the client: the code from the pages, redeemed at /token with client_secret_basic. */
export async function codeTokens(
  system: RunningSystem,
  registered: RegisteredClient,
  o: UserSignIn,
): Promise<TokenResponse> {
  const { result, verifier } = await authorizeWithPkce(system, registered, o);
  if (result.code === undefined)
    throw new Error(`authorize: ${result.error ?? 'no code'} ${result.errorDescription ?? ''}`);
  const res = await postForm(
    `${system.baseUrl}/token`,
    {
      grant_type: 'authorization_code',
      code: result.code,
      code_verifier: verifier,
      redirect_uri: o.redirectUri ?? RP_REDIRECT_URI,
    },
    { authorization: basic(registered.client_id, registered.client_secret) },
  );
  if (res.status !== 200) throw new Error(`token request: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenResponse;
}

/** docs/openid-connect.md: discovery with the client's credentials. */
export function relyingParty(
  system: RunningSystem,
  registered: RegisteredClient,
): Promise<client.Configuration> {
  return client.discovery(
    new URL(system.issuer),
    registered.client_id,
    undefined,
    // The registration's token_endpoint_auth_method (client_secret_basic, the default).
    client.ClientSecretBasic(registered.client_secret),
    {
      // The test system listens on http://127.0.0.1; an integrator's issuer is https.
      execute: [client.allowInsecureRequests],
    },
  );
}

export interface RpSignIn {
  username: string;
  password: string;
  scope: string;
  redirectUri?: string;
  /** More authorization request parameters (claims, prompt, ...). */
  parameters?: Record<string, string>;
  /** The browser session to sign in within (a remembered login); a new one by default. */
  jar?: CookieJar;
}

/**
 * docs/openid-connect.md: the authorization request (code + PKCE + nonce + state), the user's login
 * and consent, the callback; openid-client validates the ID token.
 */
export async function signIn(system: RunningSystem, config: client.Configuration, o: RpSignIn) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: o.redirectUri ?? RP_REDIRECT_URI,
    scope: o.scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...o.parameters,
  });
  const result = await authorize(system, {
    clientId: config.clientMetadata().client_id,
    username: o.username,
    password: o.password,
    ...(o.jar !== undefined ? { jar: o.jar } : {}),
    extra: Object.fromEntries(url.searchParams),
  });
  const tokens = await client
    .authorizationCodeGrant(config, new URL(result.location), {
      pkceCodeVerifier: codeVerifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    })
    .catch((err: { cause?: unknown }) => {
      throw new Error(`token request: ${JSON.stringify(err.cause)}`);
    });
  return { tokens, nonce, code: result.code!, jar: result.jar };
}
