import type { NewEvent, RecordedEvent } from '#lib/event-store';
import { recordEvents } from '../../testing/src/decider-specification.js';
import { accessTokenStreamId, type AccessTokenIssued, type AccessTokenRevoked } from './access-token.js';
import { TOKEN_STATE, tokenStateProjection, type TokenStateRow } from './token-state.projection.js';

const issued = (jti: string, clientId = 's1'): AccessTokenIssued => ({
  type: 'AccessTokenIssued',
  data: {
    jti,
    clientId,
    sub: clientId,
    aud: ['https://api.test'],
    scope: ['read'],
    grantType: 'client_credentials',
    iat: 1_893_456_000,
    exp: 1_893_456_600,
    kid: 'k1',
  },
});

const revoked = (jti: string, revokedAt = '2030-01-01T00:05:00.000Z'): AccessTokenRevoked => ({
  type: 'AccessTokenRevoked',
  data: { jti, revokedAt, revokedBy: 's1', reason: 'revocation_request' },
});

/** What a projection runner does: route each event to its row by key and fold (no I/O). */
function project(events: readonly RecordedEvent[], rows = new Map<string, TokenStateRow>()) {
  for (const event of events) {
    const key = tokenStateProjection.keyOf(event);
    if (key === null) continue;
    const next = tokenStateProjection.evolve(rows.get(key) ?? null, event);
    if (next === null) rows.delete(key);
    else rows.set(key, next);
  }
  return rows;
}

const record = (events: NewEvent[], firstGlobalPosition = 1) => recordEvents(events, { firstGlobalPosition });

describe('token_state projection (RFC 7662 §2.2 source; STYLE habit 12)', () => {
  it('is named token_state', () => {
    expect(tokenStateProjection.name).toBe(TOKEN_STATE);
    expect(TOKEN_STATE).toBe('token_state');
  });

  it('keys token events by jti', () => {
    const [i, r] = record([issued('a'), revoked('a')]);
    expect(tokenStateProjection.keyOf(i!)).toBe('a');
    expect(tokenStateProjection.keyOf(r!)).toBe('a');
  });

  it.each(['ClientRegistered', 'ClientSecretRotated', 'SigningKeyGenerated', 'AccessTokenIssuedV2'])(
    'keyOf(%s) is null: not this projection',
    (type) => {
      const [event] = record([{ type, data: { jti: 'a', clientId: 's1' } }]);
      expect(tokenStateProjection.keyOf(event!)).toBeNull();
    },
  );

  it('AccessTokenIssued as the first event of access-token-<jti> starts its row (issue 9); nothing else does', () => {
    const [i, r] = recordEvents([issued('a'), revoked('a')], { streamId: accessTokenStreamId('a') });
    expect(tokenStateProjection.startsRow?.(i!)).toBe(true);
    expect(tokenStateProjection.startsRow?.(r!)).toBe(false);
    const [elsewhere] = recordEvents([issued('a')], { streamId: accessTokenStreamId('b') });
    expect(tokenStateProjection.startsRow?.(elsewhere!)).toBe(false);
    const [later] = recordEvents([issued('a')], {
      streamId: accessTokenStreamId('a'),
      firstStreamVersion: 2,
    });
    expect(tokenStateProjection.startsRow?.(later!)).toBe(false);
  });

  it('an issued token becomes an active row with its claims and position', () => {
    const [event] = record([issued('a')], 41);
    expect(tokenStateProjection.evolve(null, event!)).toEqual({
      jti: 'a',
      clientId: 's1',
      sub: 's1',
      aud: ['https://api.test'],
      scope: ['read'],
      grantType: 'client_credentials',
      iat: 1_893_456_000,
      exp: 1_893_456_600,
      status: 'active',
      issuedAtPosition: 41,
    });
  });

  it('issue then revoke gives a revoked row with the revocation time (INT-07, REV-03)', () => {
    const rows = project(record([issued('a'), revoked('a')]));
    expect(rows.get('a')).toMatchObject({
      jti: 'a',
      status: 'revoked',
      revokedAt: '2030-01-01T00:05:00.000Z',
    });
  });

  it('a revocation of an unknown jti creates no row', () => {
    const [event] = record([revoked('ghost')]);
    expect(tokenStateProjection.evolve(null, event!)).toBeNull();
    expect(project(record([revoked('ghost')])).size).toBe(0);
  });

  it('revocation touches only its own token', () => {
    const rows = project(record([issued('a'), issued('b'), revoked('a')]));
    expect(rows.get('a')?.status).toBe('revoked');
    expect(rows.get('b')?.status).toBe('active');
  });

  it('a second revocation keeps the row revoked', () => {
    const rows = project(record([issued('a'), revoked('a'), revoked('a', '2030-01-01T00:06:00.000Z')]));
    expect(rows.get('a')?.status).toBe('revoked');
  });

  it('rebuilding from scratch twice gives the same rows (ES-03)', () => {
    const events = record([issued('a'), issued('b', 's2'), revoked('a'), issued('c'), revoked('ghost')]);
    const first = project(events);
    const second = project(events);
    expect([...second.entries()]).toEqual([...first.entries()]);
    expect(first.get('a')?.status).toBe('revoked');
  });

  it('a redelivered AccessTokenIssued does not bring a revoked token back to life (at-least-once delivery)', () => {
    const events = record([issued('a'), revoked('a')]);
    const rows = project(events);
    // The runner crashed before its checkpoint and hands the same events over again.
    project(events, rows);
    expect(rows.get('a')?.status).toBe('revoked');
    project([events[0]!], rows);
    expect(rows.get('a')).toMatchObject({ status: 'revoked', revokedAt: '2030-01-01T00:05:00.000Z' });
  });

  it('leaves the row untouched for an event of another type', () => {
    const [i, other] = record([issued('a'), { type: 'SomethingElse', data: {} }]);
    const row = tokenStateProjection.evolve(null, i!);
    expect(tokenStateProjection.evolve(row, other!)).toBe(row);
  });
});
