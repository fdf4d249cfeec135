import * as oauth from 'oauth4webapi';
import type { ExampleClientConfig } from '#lib/config';
import { type Exchange, recordingFetch } from './recorder.js';

/** One step of the choreography, with the HTTP exchanges it took. */
export interface Step {
  title: string;
  /** What the step is for, and the spec section it follows. */
  explain: string;
  exchanges: Exchange[];
  /** The browser's part of the step (a redirect), shown as a URL. */
  browser?: string;
  outcome: string;
  ok: boolean;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string | undefined;
  scope: string | undefined;
  expiresIn: number | undefined;
}

/** The ID token of the sign-in (OpenID Connect Core 1.0 §2) and its validated claims. */
export interface IdToken {
  token: string;
  claims: oauth.IDToken;
}

export interface Session {
  id: string;
  pending?: { state: string; codeVerifier: string; nonce?: string };
  /** The state of a sign-out at the end-session endpoint, until the browser is back. */
  pendingSignOut?: { state: string };
  tokens?: Tokens;
  idToken?: IdToken;
  clientCredentialsToken?: string;
  steps: Step[];
}

/**
 * The client's side of the choreography (RFC 6749 §4.1 with PKCE, RFC 7636; §6 refresh; RFC 7009
 * revocation; §4.4 client credentials), every protocol message made by oauth4webapi. Each method
 * records a Step so the page can show the learner the HTTP behind it.
 */
export class Choreography {
  private readonly client: oauth.Client;
  private readonly auth: oauth.ClientAuth;
  private readonly insecure: boolean;

  constructor(private readonly config: ExampleClientConfig) {
    if (!config.clientSecret) throw new Error('EXAMPLE_CLIENT_SECRET is not set (npm start seeds it)');
    this.client = { client_id: config.clientId };
    this.auth = oauth.ClientSecretBasic(config.clientSecret);
    // Plain http is allowed only for a local issuer (npm start); production issuers are https.
    this.insecure = new URL(config.issuer).protocol === 'http:';
  }

  /** An OpenID Connect sign-in (Core §3.1.2.1): the scope has `openid`. */
  get openid(): boolean {
    return this.config.scope.split(' ').includes('openid');
  }

  get redirectUri(): string {
    return `${this.config.url}/callback`;
  }

  private options(log: Exchange[]) {
    return { [oauth.customFetch]: recordingFetch(log), [oauth.allowInsecureRequests]: this.insecure };
  }

  /** OpenID Connect Discovery 1.0 §4 (RFC 8414 §3 without `openid`): the server's endpoints. */
  async discover(log: Exchange[]): Promise<oauth.AuthorizationServer> {
    const issuer = new URL(this.config.issuer);
    const algorithm = this.openid ? 'oidc' : 'oauth2';
    const response = await oauth.discoveryRequest(issuer, { algorithm, ...this.options(log) });
    return oauth.processDiscoveryResponse(issuer, response);
  }

  /** Step 1 (RFC 6749 §4.1.1, RFC 7636 §4): the URL the browser is sent to. */
  async signIn(session: Session): Promise<string> {
    const exchanges: Exchange[] = [];
    const as = await this.discover(exchanges);
    const codeVerifier = oauth.generateRandomCodeVerifier();
    // RFC 9700 §2.1.1: PKCE S256 for every client, confidential ones included.
    const state = oauth.generateRandomState();
    // Core §3.1.2.1: the nonce binds the ID token to this session (it comes back in the ID token).
    const nonce = this.openid ? oauth.generateRandomNonce() : undefined;
    session.pending = { state, codeVerifier, ...(nonce ? { nonce } : {}) };
    if (!as.authorization_endpoint)
      throw new Error('the authorization server advertises no authorization_endpoint');
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri,
      scope: this.config.scope,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      // RFC 8707 §2: the API the token is for (its `aud`).
      resource: this.config.resourceServerUrl,
      ...(nonce ? { nonce } : {}),
    }).toString();
    this.record(session, {
      title: 'Sign in: discovery and authorization request',
      explain:
        'The client reads the server metadata (RFC 8414), keeps a PKCE code_verifier and a state in its session, and sends the browser to the authorization endpoint with the S256 code_challenge (RFC 6749 §4.1.1, RFC 7636 §4.3). The user logs in and consents there; the client never sees the password.',
      exchanges,
      browser: url.href,
      outcome: 'browser redirected to the authorization server',
      ok: true,
    });
    return url.href;
  }

  /** Step 2 (RFC 6749 §4.1.2, §4.1.3): the code comes back; exchange it with the code_verifier. */
  async callback(session: Session, currentUrl: URL): Promise<void> {
    const exchanges: Exchange[] = [];
    const pending = session.pending;
    delete session.pending;
    try {
      if (!pending) throw new Error('no sign-in in progress in this session');
      const as = await this.discover(exchanges);
      // RFC 6749 §10.12: the state must be the one this session sent (CSRF); errors surface here.
      const params = oauth.validateAuthResponse(as, this.client, currentUrl, pending.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        this.client,
        this.auth,
        params,
        this.redirectUri,
        pending.codeVerifier,
        this.options(exchanges),
      );
      const result = await oauth.processAuthorizationCodeResponse(as, this.client, response, {
        expectedNonce: pending.nonce ?? oauth.expectNoNonce,
        requireIdToken: this.openid,
      });
      session.tokens = tokensOf(result);
      await this.keepIdToken(session, as, response, result, exchanges);
      this.record(session, {
        title: 'Callback: code exchanged for tokens',
        explain:
          'The browser came back to the redirect URI with a one-time code and the state. The client checks the state, then posts the code with its code_verifier and its client credentials to the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5).',
        exchanges,
        browser: redact(currentUrl),
        outcome: `access token (scope "${result.scope ?? ''}")${result.refresh_token ? ' and refresh token' : ''} received`,
        ok: true,
      });
    } catch (err) {
      this.record(session, {
        title: 'Callback: refused',
        explain:
          'The authorization server sent an error back, or the code exchange failed (RFC 6749 §4.1.2.1, §5.2).',
        exchanges,
        browser: redact(currentUrl),
        outcome: describe(err),
        ok: false,
      });
    }
  }

  /** Step 3 (RFC 6750 §2.1): the access token at the resource server. */
  async callResourceServer(session: Session, path = '/api/me/email', token = session.tokens?.accessToken) {
    const exchanges: Exchange[] = [];
    let outcome: string;
    let ok = false;
    if (!token) {
      outcome = 'no access token: sign in first';
    } else {
      try {
        const response = await oauth.protectedResourceRequest(
          token,
          'GET',
          new URL(`${this.config.resourceServerUrl}${path}`),
          undefined,
          undefined,
          this.options(exchanges),
        );
        ok = response.ok;
        outcome = `${response.status}: ${await response.text()}`;
      } catch (err) {
        // A 401/403 with a WWW-Authenticate challenge (RFC 6750 §3) arrives here.
        outcome = describe(err);
      }
    }
    this.record(session, {
      title: `Resource server: GET ${path}`,
      explain:
        path === '/api/me/email'
          ? 'The client sends the access token in the Authorization header (RFC 6750 §2.1). The resource server verifies it against the JWKS (RFC 9068 §4), checks the scope "email", and, this endpoint being revocation-sensitive, also asks introspection (RFC 7662) whether it was revoked.'
          : 'The client sends the access token in the Authorization header (RFC 6750 §2.1). The resource server verifies it locally against the JWKS (RFC 9068 §4) and shows what it saw.',
      exchanges,
      outcome,
      ok,
    });
  }

  /** Step 4 (RFC 6749 §6): a new access token (and a rotated refresh token) for the refresh token. */
  async refresh(session: Session): Promise<void> {
    const exchanges: Exchange[] = [];
    try {
      const refreshToken = session.tokens?.refreshToken;
      if (!refreshToken) throw new Error('no refresh token: sign in first');
      const as = await this.discover(exchanges);
      const response = await oauth.refreshTokenGrantRequest(
        as,
        this.client,
        this.auth,
        refreshToken,
        this.options(exchanges),
      );
      const result = await oauth.processRefreshTokenResponse(as, this.client, response);
      session.tokens = { ...tokensOf(result), refreshToken: result.refresh_token ?? refreshToken };
      await this.keepIdToken(session, as, response, result, exchanges);
      this.record(session, {
        title: 'Refresh: new tokens',
        explain:
          'The client trades its refresh token for a new access token (RFC 6749 §6). The server rotates the refresh token: the old one is now spent, and presenting it again would revoke the whole grant (RFC 9700 §4.14.2).',
        exchanges,
        outcome: 'new access token received',
        ok: true,
      });
    } catch (err) {
      this.record(session, {
        title: 'Refresh: refused',
        explain: 'RFC 6749 §6',
        exchanges,
        outcome: describe(err),
        ok: false,
      });
    }
  }

  /** Step 5 (RFC 7009 §2.1): revoke a token. */
  async revoke(session: Session, which: 'access_token' | 'refresh_token'): Promise<void> {
    const exchanges: Exchange[] = [];
    try {
      const token = which === 'access_token' ? session.tokens?.accessToken : session.tokens?.refreshToken;
      if (!token) throw new Error(`no ${which.replace('_', ' ')}: sign in first`);
      const as = await this.discover(exchanges);
      const response = await oauth.revocationRequest(as, this.client, this.auth, token, {
        ...this.options(exchanges),
        additionalParameters: { token_type_hint: which },
      });
      await oauth.processRevocationResponse(response);
      this.record(session, {
        title: `Revoke the ${which.replace('_', ' ')}`,
        explain:
          which === 'access_token'
            ? 'The client tells the server it no longer needs the access token (RFC 7009). Its signature stays valid until it expires, so a resource server that only checks the JWT locally would still accept it; endpoints that ask introspection refuse it at once.'
            : 'Revoking the refresh token ends the grant (RFC 7009 §2.1): the refresh token and the access tokens issued from it stop working.',
        exchanges,
        outcome: 'revoked (200)',
        ok: true,
      });
    } catch (err) {
      this.record(session, {
        title: 'Revoke: refused',
        explain: 'RFC 7009',
        exchanges,
        outcome: describe(err),
        ok: false,
      });
    }
  }

  /** RFC 6749 §4.4: a token for the client itself, no user involved; then the API with it. */
  async clientCredentials(session: Session): Promise<void> {
    const exchanges: Exchange[] = [];
    try {
      const as = await this.discover(exchanges);
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        this.client,
        this.auth,
        { scope: 'profile' },
        this.options(exchanges),
      );
      const result = await oauth.processClientCredentialsResponse(as, this.client, response);
      session.clientCredentialsToken = result.access_token;
      this.record(session, {
        title: 'Client credentials: a token for the client itself',
        explain:
          'No user is involved (RFC 6749 §4.4): the client authenticates and gets an access token whose sub is the client. Useful for machine-to-machine calls; /api/me has no user to answer for it, /api/whoami shows what the resource server sees.',
        exchanges,
        outcome: `access token received (scope "${result.scope ?? ''}")`,
        ok: true,
      });
    } catch (err) {
      this.record(session, {
        title: 'Client credentials: refused',
        explain: 'RFC 6749 §4.4',
        exchanges,
        outcome: describe(err),
        ok: false,
      });
      return;
    }
    await this.callResourceServer(session, '/api/whoami', session.clientCredentialsToken);
  }

  /**
   * Core §3.1.3.7: oauth4webapi has checked the ID token's iss, aud, exp, iat and nonce; its
   * signature is checked here too, against the issuer's jwks_uri (item 6 allows skipping it over
   * TLS; a demo shows it).
   */
  private async keepIdToken(
    session: Session,
    as: oauth.AuthorizationServer,
    response: Response,
    result: oauth.TokenEndpointResponse,
    exchanges: Exchange[],
  ): Promise<void> {
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!claims || !result.id_token) return;
    await oauth.validateApplicationLevelSignature(as, response, this.options(exchanges));
    session.idToken = { token: result.id_token, claims };
  }

  /** Records a step for the page (sign-out.ts records its own). */
  record(session: Session, step: Step): void {
    session.steps.push(step);
    if (session.steps.length > 50) session.steps.shift();
  }
}

function tokensOf(result: oauth.TokenEndpointResponse): Tokens {
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token,
    scope: result.scope,
    expiresIn: result.expires_in,
  };
}

/** The callback URL without the code's secret part (it is single-use, but never worth showing). */
function redact(url: URL): string {
  const copy = new URL(url.href);
  const code = copy.searchParams.get('code');
  if (code) copy.searchParams.set('code', `${code.slice(0, 8)}…`);
  return copy.href;
}

function describe(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError)
    return `${err.status}: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  if (err instanceof oauth.AuthorizationResponseError)
    return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    const c = err.cause[0];
    return `${err.status}: WWW-Authenticate ${c?.scheme ?? ''} ${Object.entries(c?.parameters ?? {})
      .map(([k, v]) => `${k}="${v}"`)
      .join(', ')}`;
  }
  return err instanceof Error ? err.message : String(err);
}
