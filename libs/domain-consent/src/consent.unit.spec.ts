import { eventsOrThrow } from '#lib/decider';
import { stateAfter } from '../../testing/src/decider-specification.js';
import {
  type ConsentCommand,
  consentCovers,
  consentStreamId,
  decideConsent as decideConsentDecision,
  evolveConsent,
  initialConsentState,
} from './consent.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideConsent = (...args: Parameters<typeof decideConsentDecision>) =>
  eventsOrThrow(decideConsentDecision(...args));

const decider = { decide: decideConsent, evolve: evolveConsent, initialState: initialConsentState };
const now = new Date('2030-01-01T00:00:00Z');
const grant = (scope: string[]): ConsentCommand => ({
  type: 'GrantConsent',
  sub: 'alice',
  clientId: 'c1',
  scope,
  now,
});
const revoke: ConsentCommand = { type: 'RevokeConsent', revokedBy: 'user:alice', now };

describe('remembered consent (issue 4; RFC 6749 §4.1.1 "obtains an authorization decision")', () => {
  it('granting records the scope; a later grant widens it to the union', () => {
    const first = decideConsent(grant(['read']), initialConsentState());
    expect(first).toEqual([
      {
        type: 'ConsentGranted',
        data: { sub: 'alice', clientId: 'c1', scope: ['read'], grantedAt: now.toISOString() },
      },
    ]);
    const second = decideConsent(grant(['write']), stateAfter(decider, first));
    expect(second[0]!.data).toMatchObject({ scope: ['read', 'write'] });
  });

  it('granting what is already held records nothing', () => {
    expect(
      decideConsent(
        grant(['read']),
        stateAfter(decider, decideConsent(grant(['read', 'write']), initialConsentState())),
      ),
    ).toEqual([]);
  });

  it('covers the same or fewer scopes, not more', () => {
    const state = stateAfter(decider, decideConsent(grant(['read', 'write']), initialConsentState()));
    expect(consentCovers(state, ['read'])).toBe(true);
    expect(consentCovers(state, ['write', 'read'])).toBe(true);
    expect(consentCovers(state, ['read', 'admin'])).toBe(false);
    expect(consentCovers(initialConsentState(), [])).toBe(false);
  });

  it('revoking ends it; the page comes back; revoking twice records nothing', () => {
    const granted = decideConsent(grant(['read']), initialConsentState());
    const revoked = decideConsent(revoke, stateAfter(decider, granted));
    expect(revoked.map((e) => e.type)).toEqual(['ConsentRevoked']);
    const state = stateAfter(decider, [...granted, ...revoked]);
    expect(consentCovers(state, ['read'])).toBe(false);
    expect(decideConsent(revoke, state)).toEqual([]);
    expect(decideConsent(grant(['read']), state).map((e) => e.type)).toEqual(['ConsentGranted']);
  });

  it('a denial is recorded and changes nothing', () => {
    const granted = decideConsent(grant(['read']), initialConsentState());
    const denied = decideConsent(
      { type: 'DenyConsent', sub: 'alice', clientId: 'c1', scope: ['write'], now },
      stateAfter(decider, granted),
    );
    expect(denied.map((e) => e.type)).toEqual(['ConsentDenied']);
    expect(consentCovers(stateAfter(decider, [...granted, ...denied]), ['read'])).toBe(true);
  });

  it('stream ids cannot collide across users and clients containing dashes', () => {
    expect(consentStreamId('a-b', 'c')).not.toBe(consentStreamId('a', 'b-c'));
  });
});
