import { deciderSpecification, recordEvents } from '../../testing/src/decider-specification.js';
import {
  type SessionCommand,
  sessionDecider,
  SessionNotActive,
  type SessionStarted,
  userAgentFacts,
} from './session.js';
import { activeSessions, userSessionsProjection, type UserSessionsRow } from './sessions.projection.js';

const spec = deciderSpecification(sessionDecider);
const t0 = new Date('2030-01-01T00:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const sid = 'S'.repeat(43);

const start: SessionCommand = {
  type: 'StartSession',
  sid,
  sub: 'alice',
  authTime: t0,
  amr: ['pwd'],
  acr: '0',
  userAgent: { browser: 'Firefox', os: 'Linux' },
  ttlSeconds: 3600,
  now: t0,
};
const started: SessionStarted = {
  type: 'SessionStarted',
  data: {
    sid,
    sub: 'alice',
    authTime: t0.toISOString(),
    amr: ['pwd'],
    acr: '0',
    userAgent: { browser: 'Firefox', os: 'Linux' },
    startedAt: t0.toISOString(),
    expiresAt: at(60).toISOString(),
  },
};
const use = (clientId: string, minutes: number): SessionCommand => ({
  type: 'UseSession',
  clientId,
  recordUseAfterSeconds: 300,
  now: at(minutes),
});
const authorized = (clientId: string, minutes: number) => ({
  type: 'SessionClientAuthorized',
  data: { sid, sub: 'alice', clientId, at: at(minutes).toISOString() },
});
const end = (minutes: number): SessionCommand => ({
  type: 'EndSession',
  reason: 'user',
  endedBy: 'user:alice',
  now: at(minutes),
});
const ended = (minutes: number) => ({
  type: 'SessionEnded',
  data: { sid, sub: 'alice', reason: 'user', endedBy: 'user:alice', endedAt: at(minutes).toISOString() },
});

describe('browser sessions as events (issue 22; OpenID Connect Core §2 auth_time, amr, acr)', () => {
  it('a login starts a session with its auth_time, amr, acr and coarse user agent facts', () => {
    spec.given([]).when(start).then([started]);
  });

  it('a sid is started once: a second start is refused', () => {
    spec.given([started]).when(start).thenRefuses('invalid_request');
  });

  it('the first authorization for a client records the client; a second for it records nothing', () => {
    spec
      .given([started])
      .when(use('c1', 1))
      .then([authorized('c1', 1)]);
    spec
      .given([started, authorized('c1', 1)])
      .when(use('c1', 2))
      .then([]);
  });

  it('a use long after the last one is recorded (SessionExtended), a use soon after is not', () => {
    spec
      .given([started, authorized('c1', 1)])
      .when(use('c1', 10))
      .then([{ type: 'SessionExtended', data: { sid, sub: 'alice', usedAt: at(10).toISOString() } }]);
    spec
      .given([started])
      .when(use('c2', 4))
      .then([authorized('c2', 4)]);
  });

  it('an ended or expired session is not used (login_required)', () => {
    spec
      .given([started, ended(2)])
      .when(use('c1', 3))
      .thenRefuses(SessionNotActive);
    spec.given([started]).when(use('c1', 61)).thenRefuses('login_required');
    spec.given([]).when(use('c1', 1)).thenRefuses('login_required');
  });

  it('ending records the reason and who ended it; ending twice records nothing; no session: not_found', () => {
    spec
      .given([started])
      .when(end(5))
      .then([ended(5)]);
    spec
      .given([started, ended(5)])
      .when(end(6))
      .then([]);
    spec.given([]).when(end(6)).thenRefuses('not_found');
  });
});

describe('the user-sessions read model', () => {
  const fold = (events: { type: string; data: unknown }[]) =>
    recordEvents(events).reduce<UserSessionsRow | null>(
      (row, e) => userSessionsProjection.evolve(row, e),
      null,
    );

  it('lists a started session with its clients and last use; an ended one is gone', () => {
    const row = fold([started, authorized('c1', 7)]);
    expect(activeSessions(row, at(8))).toEqual([
      {
        sid,
        authTime: t0.toISOString(),
        amr: ['pwd'],
        acr: '0',
        userAgent: { browser: 'Firefox', os: 'Linux' },
        startedAt: t0.toISOString(),
        lastUsedAt: at(7).toISOString(),
        expiresAt: at(60).toISOString(),
        clients: ['c1'],
      },
    ]);
    expect(activeSessions(fold([started, ended(3)]), at(4))).toEqual([]);
  });

  it('an expired session is not listed', () => {
    expect(activeSessions(fold([started]), at(61))).toEqual([]);
  });
});

describe('coarse user agent facts (never the User-Agent string)', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox', 'Linux'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0',
      'Edge',
      'Windows',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari',
      'iOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
      'Chrome',
      'Android',
    ],
    [undefined, 'Other', 'Other'],
    ['<script>alert(1)</script>', 'Other', 'Other'],
  ])('%s → %s on %s', (ua, browser, os) => {
    expect(userAgentFacts(ua)).toEqual({ browser, os });
  });
});
