import { selfSignedCertificate, type SelfSignedCertificate } from '#lib/testing';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import * as client from 'openid-client';
import { authorize, createUser } from './support/authorize.js';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * OpenID Connect client metadata that changes a sign-in (Dynamic Client Registration 1.0 §2), with
 * openid-client (panva) in its strict default mode as the relying party: sector_identifier_uri
 * (Core §8.1, Registration §5), fetched from a local HTTPS server the operator allow-lists;
 * default_max_age and require_auth_time (Core §3.1.2.1, Registration §2).
 */
interface Registered {
  client_id: string;
  client_secret?: string;
}

describe('OpenID Connect registration metadata with openid-client as the relying party', () => {
  let system: RunningSystem;
  let tls: SelfSignedCertificate;
  let sectorServer: HttpsServer;
  let sectorUri: string;
  const password = 'correct horse battery staple 42';

  beforeAll(async () => {
    tls = selfSignedCertificate();
    sectorServer = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(['https://one.test/cb', 'https://two.test/cb']));
    });
    await new Promise<void>((ok) => sectorServer.listen(0, '127.0.0.1', ok));
    sectorUri = `https://127.0.0.1:${(sectorServer.address() as { port: number }).port}/sector.json`;
    system = await startSystem({
      env: {
        PAIRWISE_SUBJECT_KEY: randomBytes(32).toString('base64url'),
        OUTBOUND_ALLOW: '127.0.0.1',
        NODE_EXTRA_CA_CERTS: tls.certFile,
      },
    });
    await createUser(system, 'alice', password, 'alice@example.test');
  }, 120000);

  afterAll(async () => {
    sectorServer?.closeAllConnections();
    sectorServer?.close();
    await system?.stop();
    tls?.dispose();
  }, 30000);

  async function register(doc: Record<string, unknown>): Promise<Registered> {
    const res = await fetch(`${system.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_types: ['authorization_code'],
        response_types: ['code'],
        scope: 'openid',
        ...doc,
      }),
    });
    if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Registered;
  }

  /** `metadata`: what openid-client holds the ID token to (default_max_age, require_auth_time). */
  function relyingParty(
    registered: Registered,
    metadata: Partial<client.ClientMetadata> = {},
  ): Promise<client.Configuration> {
    return client.discovery(
      new URL(system.issuer),
      registered.client_id,
      metadata,
      client.ClientSecretBasic(registered.client_secret!),
      { execute: [client.allowInsecureRequests] },
    );
  }

  /** One sign-in; `jar` carries the browser session from one to the next. */
  async function signIn(
    config: client.Configuration,
    redirectUri: string,
    o: { jar?: Parameters<typeof authorize>[1]['jar']; maxAge?: number } = {},
  ) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      nonce,
    };
    if (o.maxAge !== undefined) params.max_age = String(o.maxAge);
    const url = client.buildAuthorizationUrl(config, params);
    const result = await authorize(system, {
      clientId: config.clientMetadata().client_id,
      username: 'alice',
      password,
      extra: Object.fromEntries(url.searchParams),
      ...(o.jar === undefined ? {} : { jar: o.jar }),
    });
    const tokens = await client.authorizationCodeGrant(config, new URL(result.location), {
      pkceCodeVerifier: codeVerifier,
      expectedNonce: nonce,
      idTokenExpected: true,
      ...(o.maxAge === undefined ? {} : { maxAge: o.maxAge }),
    });
    return { tokens, claims: tokens.claims()!, loginShown: result.loginShown, jar: result.jar };
  }

  it('Core §8.1, Registration §5: clients on different hosts sharing one sector_identifier_uri get the same pairwise sub', async () => {
    const pairwise = (name: string, redirectUri: string, extra: Record<string, unknown> = {}) =>
      register({ client_name: name, redirect_uris: [redirectUri], subject_type: 'pairwise', ...extra });
    const one = await relyingParty(
      await pairwise('One', 'https://one.test/cb', { sector_identifier_uri: sectorUri }),
    );
    const two = await relyingParty(
      await pairwise('Two', 'https://two.test/cb', { sector_identifier_uri: sectorUri }),
    );
    const alone = await relyingParty(await pairwise('Alone', 'https://one.test/cb'));
    const subOne = (await signIn(one, 'https://one.test/cb')).claims.sub;
    const { tokens, claims } = await signIn(two, 'https://two.test/cb');
    expect(claims.sub).toBe(subOne);
    // Core §5.3.2: UserInfo answers the same sub.
    await client.fetchUserInfo(two, tokens.access_token, subOne);
    // Without sector_identifier_uri the redirect host is the sector: another sub.
    expect((await signIn(alone, 'https://one.test/cb')).claims.sub).not.toBe(subOne);
  }, 90000);

  it('the CLI registers sector_identifier_uri (clients create --sector-identifier-uri)', async () => {
    const out = await system.cli([
      ...['clients', 'create', '--name', 'CLI sector', '--grant', 'authorization_code'],
      ...['--redirect-uri', 'https://one.test/cb', '--redirect-uri', 'https://two.test/cb'],
      ...['--scope', 'openid', '--subject-type', 'pairwise', '--sector-identifier-uri', sectorUri, '--json'],
    ]);
    const doc = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(doc).toMatchObject({ subject_type: 'pairwise', sector_identifier_uri: sectorUri });
  }, 60000);

  it("Core §3.1.2.1, Registration §2: the client's default_max_age asks an older session to log in again; the request's max_age overrides it; auth_time is in the ID token", async () => {
    const metadata = { default_max_age: 1, require_auth_time: true };
    const registered = await register({
      client_name: 'Max age',
      redirect_uris: ['https://one.test/cb'],
      ...metadata,
    });
    // openid-client checks auth_time against default_max_age and require_auth_time itself.
    const strict = await relyingParty(registered, metadata);
    const first = await signIn(strict, 'https://one.test/cb');
    expect(first.loginShown).toBe(true);
    expect(typeof first.claims.auth_time).toBe('number');
    // A client without default_max_age signs in with the same session, no login page.
    const plain = await relyingParty(
      await register({ client_name: 'No max age', redirect_uris: ['https://two.test/cb'] }),
    );
    expect((await signIn(plain, 'https://two.test/cb', { jar: first.jar })).loginShown).toBe(false);
    await new Promise((r) => setTimeout(r, 2100));
    const again = await signIn(strict, 'https://one.test/cb', { jar: first.jar });
    expect(again.loginShown).toBe(true);
    expect(again.claims.auth_time!).toBeGreaterThan(first.claims.auth_time!);
    await new Promise((r) => setTimeout(r, 2100));
    // max_age=3600 in the request overrides the default: the session is young enough.
    const overridden = await signIn(await relyingParty(registered), 'https://one.test/cb', {
      jar: again.jar,
      maxAge: 3600,
    });
    expect(overridden.loginShown).toBe(false);
    expect(overridden.claims.auth_time).toBe(again.claims.auth_time);
  }, 90000);
});
