import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { authorize, createUser } from './support/authorize.js';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * The code and refresh flows end to end with the real front channel: oauth4webapi as the client,
 * test/support/authorize.ts as the user agent (GET /authorize, login, consent, redirect), the
 * token endpoint of this service (checklist TOK-01/02/03, RT-01/02, JWT-08, RFC 8707 resource).
 */
interface Registered {
  client_id: string;
  client_secret?: string;
}

describe('authorization code + refresh through the front channel, driven by oauth4webapi', () => {
  let system: RunningSystem;
  let as: oauth.AuthorizationServer;
  let alice: { sub: string; username: string };
  let c1: Registered;
  let p1: Registered;
  const password = 'correct horse battery staple 42';
  const insecure = { [oauth.allowInsecureRequests]: true };

  async function register(doc: Record<string, unknown>): Promise<Registered> {
    const res = await fetch(`${system.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Registered;
  }

  beforeAll(async () => {
    system = await startSystem();
    alice = await createUser(system, 'alice', password);
    const common = {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'read write',
      audience: ['https://api.test', 'https://other.test'],
    };
    c1 = await register({ ...common, client_name: 'C1', redirect_uris: ['https://c1.test/cb'] });
    p1 = await register({
      ...common,
      client_name: 'P1',
      redirect_uris: ['https://p1.test/cb'],
      token_endpoint_auth_method: 'none',
    });
    const issuer = new URL(system.issuer);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }),
    );
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  async function frontChannel(client: Registered, redirectUri: string, extra: { resource?: string } = {}) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const result = await authorize(system, {
      clientId: client.client_id,
      redirectUri,
      scope: 'read write',
      codeChallenge: await oauth.calculatePKCECodeChallenge(verifier),
      state,
      username: 'alice',
      password,
      ...(extra.resource ? { resource: extra.resource } : {}),
    });
    const params = oauth.validateAuthResponse(
      as,
      { client_id: client.client_id },
      new URL(result.location),
      state,
    );
    return { params, verifier };
  }

  const verify = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(as.jwks_uri!)), {
      issuer: system.issuer,
      typ: 'at+jwt',
      algorithms: ['ES256', 'EdDSA', 'RS256'],
    });

  it('TOK-01, RT-01, JWT-08: a confidential client gets tokens for alice and refreshes them', async () => {
    const client: oauth.Client = { client_id: c1.client_id };
    const auth = oauth.ClientSecretBasic(c1.client_secret!);
    const { params, verifier } = await frontChannel(c1, 'https://c1.test/cb');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        'https://c1.test/cb',
        verifier,
        insecure,
      ),
    );
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read write' });
    const { payload } = await verify(tokens.access_token);
    expect(payload).toMatchObject({ sub: alice.sub, client_id: c1.client_id, scope: 'read write' });
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await verify(refreshed.access_token)).payload.sub).toBe(alice.sub);
  });

  it('TOK-02, TOK-03: replaying the code is invalid_grant and kills the refresh token', async () => {
    const client: oauth.Client = { client_id: c1.client_id };
    const auth = oauth.ClientSecretBasic(c1.client_secret!);
    const { params, verifier } = await frontChannel(c1, 'https://c1.test/cb');
    const redeem = () =>
      oauth.authorizationCodeGrantRequest(as, client, auth, params, 'https://c1.test/cb', verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await redeem());
    await expect(oauth.processAuthorizationCodeResponse(as, client, await redeem())).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const refresh = await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure);
    await expect(oauth.processRefreshTokenResponse(as, client, refresh)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('RT-02, RT-03: a public client: rotation, then reuse revokes the family', async () => {
    const client: oauth.Client = { client_id: p1.client_id, token_endpoint_auth_method: 'none' };
    const { params, verifier } = await frontChannel(p1, 'https://p1.test/cb');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        'https://p1.test/cb',
        verifier,
        insecure,
      ),
    );
    const next = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
    );
    for (const rt of [tokens.refresh_token!, next.refresh_token!]) {
      const res = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), rt, insecure);
      await expect(oauth.processRefreshTokenResponse(as, client, res)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    }
  });

  it('RFC 8707: the resource named at /authorize is the audience of the tokens', async () => {
    const client: oauth.Client = { client_id: c1.client_id };
    const auth = oauth.ClientSecretBasic(c1.client_secret!);
    const { params, verifier } = await frontChannel(c1, 'https://c1.test/cb', {
      resource: 'https://other.test',
    });
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        'https://c1.test/cb',
        verifier,
        insecure,
      ),
    );
    expect((await verify(tokens.access_token)).payload.aud).toBe('https://other.test');
  });
});
