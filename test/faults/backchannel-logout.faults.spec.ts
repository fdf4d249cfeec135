import type { SelfSignedCertificate } from '#lib/testing';
import { createUser } from '../support/authorize.js';
import {
  backchannelTls,
  CookieJar,
  endSessionWithHint,
  type HistoryEvent,
  LogoutReceiver,
  registerRp,
  sessionHistoryUntil,
  signInRp,
} from '../support/backchannel.js';
import { type AppName, type RunningSystem, startSystem } from '../support/system.js';

/**
 * Back-Channel Logout 1.0 deliveries through faults: the token service (which signs logout tokens)
 * down when a session ends, and the consent service (which sends them) killed with SIGKILL while an
 * attempt is in flight. Each delivery is made in the end, none is recorded twice, and every attempt
 * stays in the session's history.
 */
describe('Back-Channel Logout deliveries through faults', () => {
  let system: RunningSystem;
  let tls: SelfSignedCertificate;
  let receiver: LogoutReceiver;
  const user = { username: 'bcl-fault', password: 'correct horse battery staple 45' };

  beforeAll(async () => {
    tls = backchannelTls();
    receiver = await new LogoutReceiver(tls, [200]).start();
    system = await startSystem({
      rpcTimeoutMs: 2000,
      env: {
        OUTBOUND_ALLOW: 'localhost',
        OUTBOUND_TIMEOUT_MS: '800',
        NODE_EXTRA_CA_CERTS: tls.certFile,
        BACKCHANNEL_LOGOUT_RETRY_BASE_MS: '500',
        BACKCHANNEL_LOGOUT_MAX_ATTEMPTS: '10',
      },
    });
    await createUser(system, user.username, user.password);
  }, 120000);

  afterAll(async () => {
    await receiver?.stop();
    await system?.stop();
    tls?.dispose();
  }, 30000);

  async function kill(app: AppName): Promise<void> {
    const child = system.children.get(app)!;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async function restart(app: AppName): Promise<void> {
    await system.launch(app);
    await system.waitOpsReady(app, 60000);
  }

  const ofType = (events: HistoryEvent[], type: string) => events.filter((e) => e.type === type);

  it('BCL-FAULT-01: with the token service down the attempts fail and are retried; once it is back the logout token is delivered, once', async () => {
    const rp = await registerRp(system, 'bcl-fault-token', {
      backchannel_logout_uri: `https://localhost:${receiver.port}/token-down`,
    });
    const jar = new CookieJar();
    const signed = await signInRp(system, rp, user, jar);
    const sid = signed.claims.sid as string;
    await kill('token');
    try {
      const ended = await endSessionWithHint(system, signed.idToken, jar);
      expect(ended.status).toBeLessThan(400);
      const failing = await sessionHistoryUntil(
        system,
        sid,
        (es) => ofType(es, 'LogoutNotificationFailed').length >= 1,
      );
      expect(ofType(failing, 'LogoutNotificationFailed')[0]!.data.reason).toMatch(/logout token not signed/);
    } finally {
      await restart('token');
    }
    const events = await sessionHistoryUntil(
      system,
      sid,
      (es) => ofType(es, 'LogoutNotificationDelivered').length === 1,
      30000,
    );
    expect(ofType(events, 'LogoutNotificationDelivered')).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path === '/token-down')).toHaveLength(1);
    const sent = ofType(events, 'LogoutNotificationSent').map((e) => e.data.attempt);
    expect(sent).toEqual(sent.map((_, i) => i + 1));
  });

  it('BCL-FAULT-02: consent killed while an attempt is in flight: after the restart the lost attempt is recorded and the delivery made', async () => {
    const rp = await registerRp(system, 'bcl-fault-consent', {
      backchannel_logout_uri: `https://localhost:${receiver.port}/consent-killed`,
    });
    const jar = new CookieJar();
    const signed = await signInRp(system, rp, user, jar);
    const sid = signed.claims.sid as string;
    receiver.statuses = ['hang'];
    const before = receiver.requests.length;
    await endSessionWithHint(system, signed.idToken, jar);
    await receiver.waitFor(before + 1);
    await kill('consent');
    receiver.statuses = [200];
    await restart('consent');
    const events = await sessionHistoryUntil(
      system,
      sid,
      (es) => ofType(es, 'LogoutNotificationDelivered').length === 1,
      40000,
    );
    const failures = ofType(events, 'LogoutNotificationFailed');
    expect(failures[0]!.data).toMatchObject({ attempt: 1, reason: 'no outcome recorded' });
    expect(ofType(events, 'LogoutNotificationDelivered')).toHaveLength(1);
    expect(ofType(events, 'LogoutNotificationDelivered')[0]!.data.attempt).toBeGreaterThan(1);
    expect(ofType(events, 'SessionEnded')).toHaveLength(1);
  });
});
