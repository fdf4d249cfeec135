import { type RecordedEvent } from '../event-store.js';
import { archivableFrom, DEFAULT_RETENTION_POLICY, isArchivable, streamClosedAt } from './policy.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function ev(
  streamId: string,
  v: number,
  type: string,
  data: Record<string, unknown>,
  at = T0,
): RecordedEvent {
  return {
    eventId: `e-${streamId}-${v}`,
    globalPosition: v,
    streamId,
    streamVersion: v,
    type,
    schemaVersion: 1,
    data,
    metadata: {},
    recordedAt: new Date(at),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('retention policy (docs/retention.md)', () => {
  it('RET-P01 a client-credentials access token closes at its exp and is kept 90 days after it', () => {
    const exp = T0 / 1000 + 600;
    const stream = [ev('access-token-a', 1, 'AccessTokenIssued', { grantType: 'client_credentials', exp })];
    expect(streamClosedAt('access-token-a', stream)).toBe(exp * 1000);
    expect(archivableFrom('access-token-a', stream, DEFAULT_RETENTION_POLICY)).toBe(exp * 1000 + 90 * DAY);
    expect(isArchivable('access-token-a', stream, DEFAULT_RETENTION_POLICY, exp * 1000 + 90 * DAY - 1)).toBe(
      false,
    );
    expect(isArchivable('access-token-a', stream, DEFAULT_RETENTION_POLICY, exp * 1000 + 90 * DAY)).toBe(
      true,
    );
  });

  it("RET-P02 an access token issued from a user's grant is kept with its grant (never archived alone)", () => {
    const stream = [
      ev('access-token-b', 1, 'AccessTokenIssued', { grantType: 'authorization_code', exp: 1 }),
    ];
    expect(streamClosedAt('access-token-b', stream)).toBeNull();
    expect(isArchivable('access-token-b', stream, DEFAULT_RETENTION_POLICY, T0 + 1000 * DAY)).toBe(false);
  });

  it('RET-P03 a grant closes when revoked, or when the last code or refresh token issued from it expires', () => {
    const revoked = [
      ev('grant-r', 1, 'AuthorizationCodeIssued', { expiresAt: iso(T0 + 60_000) }),
      ev('grant-r', 2, 'RefreshTokenIssued', {
        expiresAt: iso(T0 + 30 * DAY),
        familyExpiresAt: iso(T0 + 60 * DAY),
      }),
      ev('grant-r', 3, 'GrantRevoked', { at: iso(T0 + DAY) }, T0 + DAY),
    ];
    expect(streamClosedAt('grant-r', revoked)).toBe(T0 + DAY);
    const expiring = [
      ev('grant-e', 1, 'AuthorizationCodeIssued', { expiresAt: iso(T0 + 60_000) }),
      ev('grant-e', 2, 'RefreshTokenIssued', {
        expiresAt: iso(T0 + 30 * DAY),
        familyExpiresAt: iso(T0 + 60 * DAY),
      }),
      ev('grant-e', 3, 'RefreshTokenRotated', { expiresAt: iso(T0 + 70 * DAY) }),
    ];
    expect(streamClosedAt('grant-e', expiring)).toBe(T0 + 70 * DAY);
    const codeOnly = [ev('grant-c', 1, 'AuthorizationCodeIssued', { expiresAt: iso(T0 + 60_000) })];
    expect(streamClosedAt('grant-c', codeOnly)).toBe(T0 + 60_000);
    expect(archivableFrom('grant-c', codeOnly, { ...DEFAULT_RETENTION_POLICY, grantDays: 7 })).toBe(
      T0 + 60_000 + 7 * DAY,
    );
  });

  it('RET-P04 a session closes when it ends, else at the expiry fixed when it started', () => {
    const started = ev('session-s', 1, 'SessionStarted', { expiresAt: iso(T0 + DAY) });
    expect(streamClosedAt('session-s', [started])).toBe(T0 + DAY);
    const ended = ev('session-s', 2, 'SessionEnded', { endedAt: iso(T0 + 3600_000) }, T0 + 3600_000);
    expect(streamClosedAt('session-s', [started, ended])).toBe(T0 + 3600_000);
    expect(archivableFrom('session-s', [started, ended], DEFAULT_RETENTION_POLICY)).toBe(
      T0 + 3600_000 + 30 * DAY,
    );
  });

  it('RET-P05 other categories (living users, username index, clients, consents, the retention stream) are kept for ever', () => {
    for (const id of ['user-x', 'username-abc', 'client-y', 'consent-a-b', 'retention', 'signing-keyring']) {
      expect(archivableFrom(id, [ev(id, 1, 'Anything', {})], DEFAULT_RETENTION_POLICY)).toBeNull();
    }
  });

  it("RET-P07 a user's history closes when the user is erased and is kept 30 days after (the account no longer lives)", () => {
    const erasedAt = T0 + 5 * DAY;
    const stream = [
      ev('user-x', 1, 'UserCreated', { sub: 'x' }),
      ev('user-x', 2, 'UserErased', { sub: 'x', erasedAt: iso(erasedAt) }, erasedAt),
    ];
    expect(streamClosedAt('user-x', stream)).toBe(erasedAt);
    expect(archivableFrom('user-x', stream, DEFAULT_RETENTION_POLICY)).toBe(erasedAt + 30 * DAY);
    expect(archivableFrom('user-x', stream, { ...DEFAULT_RETENTION_POLICY, userDays: 365 })).toBe(
      erasedAt + 365 * DAY,
    );
    expect(streamClosedAt('user-x', stream.slice(0, 1))).toBeNull();
  });

  it('RET-P06 an event recorded after the stream closed moves its archiving date', () => {
    const exp = T0 / 1000;
    const late = T0 + 10 * DAY;
    const stream = [
      ev('access-token-l', 1, 'AccessTokenIssued', { grantType: 'client_credentials', exp }),
      ev('access-token-l', 2, 'AccessTokenRevoked', {}, late),
    ];
    expect(archivableFrom('access-token-l', stream, DEFAULT_RETENTION_POLICY)).toBe(late + 90 * DAY);
  });
});
