import { deciderSpecification, recordEvents } from '../../testing/src/decider-specification.js';
import { type LogoutRetryPolicy, retryDelayMs } from './logout-notification.js';
import {
  dueClients,
  logoutNotificationsProjection,
  type LogoutNotificationsRow,
} from './logout-notifications.projection.js';
import { type SessionCommand, sessionAsOfView, sessionDecider, SESSION_FOLD } from './session.js';

const spec = deciderSpecification(sessionDecider);
const t0 = new Date('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const iso = (ms: number) => at(ms).toISOString();
const sid = 'S'.repeat(43);
const base = { sid, sub: 'alice' };
const policy: LogoutRetryPolicy = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 1500 };

const started = {
  type: 'SessionStarted',
  data: {
    ...base,
    authTime: iso(0),
    amr: ['pwd'],
    acr: '0',
    userAgent: { browser: 'Firefox', os: 'Linux' },
    startedAt: iso(0),
    expiresAt: iso(3_600_000),
  },
};
const authorized = (clientId: string) => ({
  type: 'SessionClientAuthorized',
  data: { ...base, clientId, at: iso(1) },
});
const ended = (clients?: string[]) => ({
  type: 'SessionEnded',
  data: {
    ...base,
    reason: 'logout',
    endedBy: 'user:alice',
    endedAt: iso(10),
    ...(clients ? { logoutNotifications: clients } : {}),
  },
});
const sent = (attempt: number, ms: number, clientId = 'c1') => ({
  type: 'LogoutNotificationSent',
  data: {
    ...base,
    clientId,
    attempt,
    jti: `jti-${attempt}`,
    uri: 'https://rp.test/bcl',
    sentAt: iso(ms),
    outcomeBy: iso(ms + 5000),
  },
});
const send = (ms: number, clientId = 'c1'): SessionCommand => ({
  type: 'SendLogoutNotification',
  clientId,
  jti: 'jti-new',
  uri: 'https://rp.test/bcl',
  outcomeWithinMs: 5000,
  policy,
  now: at(ms),
});
const record = (
  attempt: number,
  outcome: { status: number } | { error: string; retryable: boolean },
  ms: number,
) =>
  ({
    type: 'RecordLogoutNotification',
    clientId: 'c1',
    attempt,
    outcome,
    policy,
    now: at(ms),
  }) as SessionCommand;
const failed = (attempt: number, ms: number, extra: Record<string, unknown>) => ({
  type: 'LogoutNotificationFailed',
  data: { ...base, clientId: 'c1', attempt, failedAt: iso(ms), ...extra },
});
const history = [started, authorized('c1'), authorized('c2'), ended(['c1'])];

describe('Back-Channel Logout 1.0 deliveries in the session stream', () => {
  it('ending a session lists the clients to tell: only those it signed in to, once each', () => {
    spec
      .given([started, authorized('c1'), authorized('c2')])
      .when({
        type: 'EndSession',
        reason: 'logout',
        endedBy: 'user:alice',
        logoutNotifications: ['c1', 'c3', 'c1'],
        now: at(10),
      })
      .then([ended(['c1'])]);
    spec
      .given([started, authorized('c1')])
      .when({
        type: 'EndSession',
        reason: 'logout',
        endedBy: 'user:alice',
        logoutNotifications: [],
        now: at(10),
      })
      .then([ended()]);
  });

  it('the first attempt is due at once and recorded with its jti; a client not listed is refused', () => {
    spec
      .given(history)
      .when(send(20))
      .then([{ ...sent(1, 20), data: { ...sent(1, 20).data, jti: 'jti-new' } }]);
    spec.given(history).when(send(20, 'c2')).thenRefuses('invalid_request');
    spec
      .given([started, authorized('c1')])
      .when(send(20))
      .thenRefuses('invalid_request');
  });

  it('§2.8: 200 and 204 are delivered; a late outcome of another attempt changes nothing', () => {
    spec
      .given([...history, sent(1, 20)])
      .when(record(1, { status: 204 }, 30))
      .then([
        {
          type: 'LogoutNotificationDelivered',
          data: { ...base, clientId: 'c1', attempt: 1, status: 204, deliveredAt: iso(30) },
        },
      ]);
    spec
      .given([...history, sent(1, 20)])
      .when(record(2, { status: 200 }, 30))
      .then([]);
  });

  it('a 5xx, 408, 429 or network failure is tried again after the back-off; other statuses and refused addresses are given up', () => {
    for (const status of [500, 503, 408, 429])
      spec
        .given([...history, sent(1, 20)])
        .when(record(1, { status }, 30))
        .then([failed(1, 30, { status, reason: `HTTP ${status}`, retryAt: iso(1030) })]);
    for (const status of [400, 302, 404])
      spec
        .given([...history, sent(1, 20)])
        .when(record(1, { status }, 30))
        .then([failed(1, 30, { status, reason: `HTTP ${status}` })]);
    spec
      .given([...history, sent(1, 20)])
      .when(record(1, { error: 'timeout', retryable: true }, 30))
      .then([failed(1, 30, { reason: 'timeout', retryAt: iso(1030) })]);
    spec
      .given([...history, sent(1, 20)])
      .when(record(1, { error: 'outbound fetch refused: 10.0.0.1 is private', retryable: false }, 30))
      .then([failed(1, 30, { reason: 'outbound fetch refused: 10.0.0.1 is private' })]);
  });

  it('a retry waits for its back-off, and the last attempt allowed is not retried', () => {
    const firstFailure = failed(1, 30, { status: 500, reason: 'HTTP 500', retryAt: iso(1030) });
    spec
      .given([...history, sent(1, 20), firstFailure])
      .when(send(1000))
      .thenRefuses('invalid_request');
    spec
      .given([...history, sent(1, 20), firstFailure, sent(2, 1030)])
      .when(record(2, { status: 500 }, 1040))
      .then([failed(2, 1040, { status: 500, reason: 'HTTP 500', retryAt: iso(2540) })]);
    spec
      .given([
        ...history,
        sent(1, 20),
        firstFailure,
        sent(2, 1030),
        failed(2, 1040, { retryAt: iso(2540), reason: 'x' }),
        sent(3, 2540),
      ])
      .when(record(3, { status: 500 }, 2550))
      .then([failed(3, 2550, { status: 500, reason: 'HTTP 500' })]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy))).toEqual([1000, 1500, 1500, 1500]);
  });

  it('an attempt in flight is not sent twice; one with no outcome by its deadline counts as failed', () => {
    spec
      .given([...history, sent(1, 20)])
      .when(send(4000))
      .thenRefuses('invalid_request');
    spec
      .given([...history, sent(1, 20)])
      .when(send(5020))
      .then([
        failed(1, 5020, { reason: 'no outcome recorded', retryAt: iso(6020) }),
        { ...sent(2, 5020), data: { ...sent(2, 5020).data, jti: 'jti-new' } },
      ]);
  });

  it('delivered or given-up notifications are not sent again; an abandoned one records why', () => {
    const delivered = {
      type: 'LogoutNotificationDelivered',
      data: { ...base, clientId: 'c1', attempt: 1, status: 200, deliveredAt: iso(30) },
    };
    spec
      .given([...history, sent(1, 20), delivered])
      .when(send(50))
      .thenRefuses('invalid_request');
    spec
      .given(history)
      .when({
        type: 'AbandonLogoutNotification',
        clientId: 'c1',
        reason: 'no backchannel_logout_uri',
        now: at(20),
      })
      .then([failed(0, 20, { reason: 'no backchannel_logout_uri' })]);
    spec
      .given([started, authorized('c1')])
      .when({ type: 'AbandonLogoutNotification', clientId: 'c1', reason: 'x', now: at(20) })
      .thenRefuses('invalid_request');
  });

  it('the audit view shows each client with its attempts and last answer', () => {
    const events = recordEvents([
      ...history,
      sent(1, 20),
      failed(1, 30, { status: 500, reason: 'HTTP 500', retryAt: iso(1030) }),
    ]);
    const state = events.reduce(
      (s, e) => SESSION_FOLD.evolve(s, e as Parameters<typeof SESSION_FOLD.evolve>[1]),
      SESSION_FOLD.initial(),
    );
    expect(sessionAsOfView(state, at(40))?.logoutNotifications).toEqual([
      { clientId: 'c1', status: 'pending', attempts: 1, lastStatus: 500, lastReason: 'HTTP 500' },
    ]);
  });
});

describe('the logout-notifications read model', () => {
  const fold = (events: { type: string; data: unknown }[]) =>
    recordEvents(events).reduce<LogoutNotificationsRow | null>(
      (row, e) => logoutNotificationsProjection.evolve(row, e),
      null,
    );

  it('holds what is due per client, and goes once every client is delivered or given up', () => {
    const two = [started, authorized('c1'), authorized('c2'), ended(['c1', 'c2'])];
    expect(fold(two)).toEqual({ sid, dueAt: iso(10), clients: { c1: iso(10), c2: iso(10) } });
    const inFlight = fold([...two, sent(1, 20)]);
    expect(inFlight).toEqual({ sid, dueAt: iso(10), clients: { c1: iso(5020), c2: iso(10) } });
    expect(dueClients(inFlight!, at(100))).toEqual(['c2']);
    const retrying = fold([...two, sent(1, 20), failed(1, 30, { reason: 'x', retryAt: iso(1030) })]);
    expect(retrying!.clients.c1).toBe(iso(1030));
    const delivered = {
      type: 'LogoutNotificationDelivered',
      data: { ...base, clientId: 'c2', attempt: 1, status: 200, deliveredAt: iso(40) },
    };
    expect(fold([...two, sent(1, 20), failed(1, 30, { reason: 'x' }), delivered])).toBeNull();
    expect(fold([started, ended()])).toBeNull();
  });
});
