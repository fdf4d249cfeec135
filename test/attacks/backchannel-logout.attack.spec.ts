import type { SelfSignedCertificate } from '#lib/testing';
import { authorize, createUser } from '../support/authorize.js';
import {
  adminJson,
  backchannelTls,
  CookieJar,
  endSessionWithHint,
  LogoutReceiver,
  registerRp,
  sessionHistoryUntil,
  signInRp,
} from '../support/backchannel.js';
import { searchForSecrets } from '../support/secret-search.js';
import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * OpenID Connect Back-Channel Logout 1.0 as an attacker would use it: a backchannel_logout_uri is
 * a URL the client chooses that the server POSTs to (RFC 9700 §4.16), a logout token is a signed
 * JWT of this issuer that must never pass for an ID token or an access token (§2.4), and a
 * receiver that stalls or redirects must cost the server nothing it cannot bound.
 */
describe('Back-Channel Logout: outbound requests, token confusion and stalling receivers', () => {
  let system: RunningSystem;
  let tls: SelfSignedCertificate;
  let receiver: LogoutReceiver;
  let stalling: LogoutReceiver;
  let redirecting: LogoutReceiver;
  const user = { username: 'bcl-mallory', password: 'correct horse battery staple 43' };
  const other = { username: 'bcl-victim', password: 'correct horse battery staple 44' };

  beforeAll(async () => {
    tls = backchannelTls();
    receiver = await new LogoutReceiver(tls, [200]).start();
    stalling = await new LogoutReceiver(tls, ['hang']).start();
    redirecting = await new LogoutReceiver(tls, [302]).start();
    system = await startSystem({
      env: {
        OUTBOUND_ALLOW: 'localhost',
        OUTBOUND_TIMEOUT_MS: '1000',
        NODE_EXTRA_CA_CERTS: tls.certFile,
        BACKCHANNEL_LOGOUT_RETRY_BASE_MS: '300',
        BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: '2',
      },
    });
    await createUser(system, user.username, user.password);
    await createUser(system, other.username, other.password);
  }, 120000);

  afterAll(async () => {
    await Promise.all([receiver?.stop(), stalling?.stop(), redirecting?.stop()]);
    await system?.stop();
    tls?.dispose();
  }, 30000);

  it.each([
    ['http, even on loopback (deliveries go over https only)', 'http://localhost:8080/bcl'],
    ['with a fragment (§2.2)', 'https://rp.test/bcl#x'],
    ['not a URL', 'not a url'],
    ['not a string', 42],
  ])('BCL-ATK-01: a backchannel_logout_uri %s is 400 invalid_client_metadata', async (_what, uri) => {
    const res = await adminJson<{ error: string }>(system, 'POST', '/admin/clients', {
      client_name: 'bad-bcl',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://rp.test/cb'],
      scope: 'openid',
      backchannel_logout_uri: uri,
    });
    expect([res.status, res.body.error]).toEqual([400, 'invalid_client_metadata']);
  });

  it('BCL-ATK-02: a logout token is not an ID token (id_token_hint), nor an access token (UserInfo, introspection)', async () => {
    const rp = await registerRp(system, 'bcl-confused', {
      backchannel_logout_uri: `https://localhost:${receiver.port}/confused`,
    });
    const first = new CookieJar();
    const signed = await signInRp(system, rp, user, first);
    const before = receiver.requests.length;
    await endSessionWithHint(system, signed.idToken, first);
    await receiver.waitFor(before + 1);
    const logoutToken = receiver.tokens()[before]!;

    // A new session of the same user: a logout token of the old one must not end it.
    const second = new CookieJar();
    const again = await signInRp(system, rp, user, second);
    const asHint = await endSessionWithHint(system, logoutToken, second);
    expect(asHint.status).toBe(400);
    expect(await asHint.text()).toMatch(/invalid_request/);
    const still = await authorize(system, {
      clientId: rp.client_id,
      redirectUri: 'https://rp.test/cb',
      scope: 'openid',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      ...user,
      jar: second,
      extra: { prompt: 'none', nonce: 'n' },
    });
    expect(still.code).toBeDefined();
    expect(again.claims.sid).not.toBe(signed.claims.sid);

    const userinfo = await fetch(`${system.baseUrl}/userinfo`, {
      headers: { authorization: `Bearer ${logoutToken}` },
    });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const introspected = await postForm(
      `${system.baseUrl}/introspect`,
      { token: logoutToken },
      { authorization: basic(rp.client_id, rp.client_secret) },
    );
    expect(introspected.status).toBe(200);
    expect(await introspected.json()).toEqual({ active: false });
  });

  it('BCL-ATK-03: a receiver that never answers does not hold up the logout; the attempt times out, is retried, then given up', async () => {
    const rp = await registerRp(system, 'bcl-stall', {
      backchannel_logout_uri: `https://localhost:${stalling.port}/stall`,
    });
    const jar = new CookieJar();
    const signed = await signInRp(system, rp, user, jar);
    const ended = await endSessionWithHint(system, signed.idToken, jar);
    const answeredAt = new Date().toISOString();
    expect(ended.status).toBeLessThan(400);
    const events = await sessionHistoryUntil(
      system,
      signed.claims.sid as string,
      (es) => es.filter((e) => e.type === 'LogoutNotificationFailed').length === 2,
    );
    const failures = events.filter((e) => e.type === 'LogoutNotificationFailed');
    // The end-session endpoint answered before the first attempt had even failed.
    expect(answeredAt < (failures[0]!.data.failedAt as string)).toBe(true);
    expect(failures[0]!.data.retryAt).toBeDefined();
    expect(failures[1]!.data.retryAt).toBeUndefined();
    expect(failures.map((f) => f.data.status)).toEqual([undefined, undefined]);
    expect(stalling.requests).toHaveLength(2);
  });

  it('BCL-ATK-04: a redirect from the receiver is not followed, and not tried again', async () => {
    const rp = await registerRp(system, 'bcl-redirect', {
      backchannel_logout_uri: `https://localhost:${redirecting.port}/bcl`,
    });
    const jar = new CookieJar();
    const signed = await signInRp(system, rp, user, jar);
    await endSessionWithHint(system, signed.idToken, jar);
    const events = await sessionHistoryUntil(system, signed.claims.sid as string, (es) =>
      es.some((e) => e.type === 'LogoutNotificationFailed'),
    );
    const failed = events.find((e) => e.type === 'LogoutNotificationFailed')!;
    expect([failed.data.status, failed.data.retryAt]).toEqual([302, undefined]);
    expect(redirecting.requests.map((r) => r.path)).toEqual(['/bcl']);
  });

  it("BCL-ATK-05: only the clients of the ended session are told: not another user's, not one never signed in to", async () => {
    const mine = await registerRp(system, 'bcl-mine', {
      backchannel_logout_uri: `https://localhost:${receiver.port}/mine`,
    });
    const victims = await registerRp(system, 'bcl-victims', {
      backchannel_logout_uri: `https://localhost:${receiver.port}/victims`,
    });
    await registerRp(system, 'bcl-unused', {
      backchannel_logout_uri: `https://localhost:${receiver.port}/unused`,
    });
    await signInRp(system, victims, other, new CookieJar());
    const jar = new CookieJar();
    const signed = await signInRp(system, mine, user, jar);
    await endSessionWithHint(system, signed.idToken, jar);
    await sessionHistoryUntil(system, signed.claims.sid as string, (es) =>
      es.some((e) => e.type === 'LogoutNotificationDelivered'),
    );
    const paths = receiver.requests.map((r) => r.path);
    expect(paths).toContain('/mine');
    expect(paths).not.toContain('/victims');
    expect(paths).not.toContain('/unused');
  });

  it('BCL-ATK-06: logout tokens are neither stored nor published (only their jti)', async () => {
    const tokens = receiver.tokens();
    expect(tokens.length).toBeGreaterThan(1);
    const found = await searchForSecrets(system, tokens, (t) => [t, t.split('.')[2]!]);
    expect(found.tablesSearched).toBeGreaterThan(3);
    expect(found.messagesSearched).toBeGreaterThan(0);
    expect(found.hits).toEqual([]);
  });
});
