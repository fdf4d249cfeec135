import type { SelfSignedCertificate } from '#lib/testing';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createUser } from './support/authorize.js';
import {
  adminJson,
  backchannelTls,
  CookieJar,
  endSessionWithHint,
  type HistoryEvent,
  LogoutReceiver,
  registerRp,
  sessionHistoryUntil,
  signInRp,
} from './support/backchannel.js';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * OpenID Connect Back-Channel Logout 1.0 end to end: a user signs in to three relying parties in one
 * browser session with openid-client, then signs out through the end-session endpoint; each
 * client's real HTTPS receiver gets a logout token it verifies against the server's jwks_uri, a
 * receiver that fails twice is retried with back-off, and every attempt is in the session's history.
 * The receivers listen on 127.0.0.1 under the name `localhost`, which the operator allow-lists
 * (OUTBOUND_ALLOW); a client whose endpoint names 127.0.0.1 itself is refused by the guard.
 */
describe('Back-Channel Logout 1.0 with real receivers', () => {
  let system: RunningSystem;
  let tls: SelfSignedCertificate;
  let healthy: LogoutReceiver;
  let flaky: LogoutReceiver;
  let inward: LogoutReceiver;
  const user = { username: 'bcl-alice', password: 'correct horse battery staple 42' };
  let sub: string;

  beforeAll(async () => {
    tls = backchannelTls();
    healthy = await new LogoutReceiver(tls, [200]).start();
    flaky = await new LogoutReceiver(tls, [500, 500, 200]).start();
    inward = await new LogoutReceiver(tls, [200]).start();
    system = await startSystem({
      env: {
        OUTBOUND_ALLOW: 'localhost',
        NODE_EXTRA_CA_CERTS: tls.certFile,
        BACKCHANNEL_LOGOUT_RETRY_BASE_MS: '300',
        BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: '4',
      },
    });
    sub = (await createUser(system, user.username, user.password)).sub;
  }, 120000);

  afterAll(async () => {
    await Promise.all([healthy?.stop(), flaky?.stop(), inward?.stop()]);
    await system?.stop();
    tls?.dispose();
  }, 30000);

  const byClient = (events: HistoryEvent[], clientId: string, type?: string) =>
    events.filter((e) => e.data.clientId === clientId && (type === undefined || e.type === type));

  it('BCL-RCV-01: logout tokens reach every client of the session, verify against jwks_uri, and the deliveries are the session history', async () => {
    const a = await registerRp(system, 'bcl-a', {
      backchannel_logout_uri: `https://localhost:${healthy.port}/bcl`,
      backchannel_logout_session_required: true,
    });
    const b = await registerRp(system, 'bcl-b', {
      backchannel_logout_uri: `https://localhost:${flaky.port}/bcl`,
      id_token_signed_response_alg: 'ES256',
    });
    const c = await registerRp(system, 'bcl-c', {
      backchannel_logout_uri: `https://127.0.0.1:${inward.port}/bcl`,
    });
    const none = await registerRp(system, 'bcl-none', {});
    const jar = new CookieJar();
    const signedA = await signInRp(system, a, user, jar);
    const signedB = await signInRp(system, b, user, jar);
    await signInRp(system, c, user, jar);
    await signInRp(system, none, user, jar);
    const sid = signedA.claims.sid as string;
    expect(signedB.claims.sid).toBe(sid);

    const ended = await endSessionWithHint(system, signedA.idToken, jar);
    expect(ended.status).toBeLessThan(400);

    // §2.5: one POST, form-encoded `logout_token`; §2.6 validation as an RP does it.
    await healthy.waitFor(1);
    expect(healthy.requests[0]!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    const jwks = createRemoteJWKSet(new URL(`${system.issuer}/jwks`));
    const [tokenA] = healthy.tokens();
    expect(decodeProtectedHeader(tokenA!).typ).toBe('logout+jwt');
    const { payload } = await jwtVerify(tokenA!, jwks, {
      issuer: system.issuer,
      audience: a.client_id,
      typ: 'logout+jwt',
      maxTokenAge: '2m',
    });
    expect(payload).toMatchObject({
      sub: signedA.claims.sub,
      sid,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
    expect(payload).not.toHaveProperty('nonce');

    // 500, 500, then 200: three attempts, each with a fresh token signed with the client's alg.
    await flaky.waitFor(3);
    const tokensB = flaky.tokens();
    expect(new Set(tokensB).size).toBe(3);
    for (const t of tokensB) {
      expect(decodeProtectedHeader(t).alg).toBe('ES256');
      await jwtVerify(t, jwks, { issuer: system.issuer, audience: b.client_id, typ: 'logout+jwt' });
    }
    // Back-off: the third attempt waited longer than the second (300 ms, then 600 ms).
    const [r1, r2, r3] = flaky.requests;
    expect(r2!.at - r1!.at).toBeGreaterThanOrEqual(250);
    expect(r3!.at - r2!.at).toBeGreaterThanOrEqual(r2!.at - r1!.at);

    const events = await sessionHistoryUntil(
      system,
      sid,
      (es) =>
        byClient(es, b.client_id, 'LogoutNotificationDelivered').length === 1 &&
        byClient(es, a.client_id, 'LogoutNotificationDelivered').length === 1 &&
        byClient(es, c.client_id, 'LogoutNotificationFailed').length === 1,
    );
    const ending = events.find((e) => e.type === 'SessionEnded')!;
    expect([...(ending.data.logoutNotifications as string[])].sort()).toEqual(
      [a.client_id, b.client_id, c.client_id].sort(),
    );
    expect(byClient(events, b.client_id).map((e) => [e.type, e.data.attempt, e.data.status])).toEqual([
      ['SessionClientAuthorized', undefined, undefined],
      ['LogoutNotificationSent', 1, undefined],
      ['LogoutNotificationFailed', 1, 500],
      ['LogoutNotificationSent', 2, undefined],
      ['LogoutNotificationFailed', 2, 500],
      ['LogoutNotificationSent', 3, undefined],
      ['LogoutNotificationDelivered', 3, 200],
    ]);
    const sentJtis = byClient(events, b.client_id, 'LogoutNotificationSent').map((e) => e.data.jti);
    const receivedJtis = await Promise.all(
      tokensB.map(async (t) => (await jwtVerify(t, jwks, { issuer: system.issuer })).payload.jti),
    );
    expect(sentJtis).toEqual(receivedJtis);
    for (const e of byClient(events, b.client_id, 'LogoutNotificationSent'))
      expect(e.metadata.actor).toBe('system');

    // The endpoint on 127.0.0.1 (not allow-listed) is refused before any connection, and given up.
    const refused = byClient(events, c.client_id, 'LogoutNotificationFailed')[0]!;
    expect(refused.data.reason).toMatch(/outbound fetch refused: 127\.0\.0\.1 is loopback/);
    expect(refused.data.retryAt).toBeUndefined();
    expect(inward.connections).toBe(0);
    // The client without a backchannel_logout_uri is not in the list and gets nothing.
    expect(byClient(events, none.client_id).map((e) => e.type)).toEqual(['SessionClientAuthorized']);

    // The session as of now: ended, with each client's delivery.
    const asOf = await adminJson<{ status: string; logoutNotifications: unknown[] }>(
      system,
      'GET',
      `/admin/sessions/${sid}`,
    );
    expect(asOf.status).toBe(200);
    expect(asOf.body.status).toBe('ended');
    expect(asOf.body.logoutNotifications).toEqual(
      expect.arrayContaining([
        { clientId: a.client_id, status: 'delivered', attempts: 1, lastStatus: 200 },
        { clientId: b.client_id, status: 'delivered', attempts: 3, lastStatus: 200 },
        {
          clientId: c.client_id,
          status: 'abandoned',
          attempts: 1,
          lastReason: 'outbound fetch refused: 127.0.0.1 is loopback',
        },
      ]),
    );
  });

  it('BCL-RCV-02: an administrator ending a session sends the logout tokens too; the metrics count the deliveries', async () => {
    const a = await registerRp(system, 'bcl-admin', {
      backchannel_logout_uri: `https://localhost:${healthy.port}/admin-ended`,
    });
    const jar = new CookieJar();
    const signed = await signInRp(system, a, user, jar);
    const sid = signed.claims.sid as string;
    const before = healthy.requests.length;
    const res = await adminJson(system, 'DELETE', `/admin/users/${sub}/sessions/${sid}`);
    expect(res.status).toBeLessThan(300);
    await healthy.waitFor(before + 1);
    expect(healthy.requests[before]!.path).toBe('/admin-ended');
    const events = await sessionHistoryUntil(system, sid, (es) =>
      es.some((e) => e.type === 'LogoutNotificationDelivered'),
    );
    expect(events.find((e) => e.type === 'SessionEnded')!.data.reason).toBe('admin');
    // The session's timeline page on the admin plane reads each delivery.
    const page = await fetch(`${system.adminUrl}/admin/audit/sessions/${sid}`, {
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Logout notification sent');
    expect(html).toContain('Logout notification delivered');
    expect(html).toMatch(new RegExp(`back-channel logout to [^<]*${a.client_id}`));
    const metrics = await (await fetch(system.opsUrl('consent', '/metrics'))).text();
    expect(metrics).toMatch(/authz_logout_notifications_total\{[^}]*outcome="delivered"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/authz_logout_notifications_total\{[^}]*outcome="retry"[^}]*\} [1-9]/);
  });
});
