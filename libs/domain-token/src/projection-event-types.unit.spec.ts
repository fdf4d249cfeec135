import { clientsProjection } from '#lib/domain-client';
import { userGrantsProjection, usersProjection } from '#lib/domain-user';
import type { Projection, RecordedEvent } from '#lib/event-store';
import { grantStateProjection, tokenStateProjection } from './token-state.projection.js';

/** Every event type the services record (docs/events.md). */
const RECORDED_TYPES = [
  'AccessTokenIssued',
  'AccessTokenRevoked',
  'AuthorizationCodeIssued',
  'AuthorizationCodeRedeemed',
  'AuthorizationCodeReplayed',
  'ClientAssertionUsed',
  'ClientDeleted',
  'ClientDisabled',
  'ClientRegistered',
  'ClientSecretRotated',
  'ClientPrivilegeGranted',
  'ClientPrivilegeRevoked',
  'ClientUpdated',
  'ConsentDenied',
  'ConsentGranted',
  'ConsentRevoked',
  'GrantRevoked',
  'InitialAccessTokenCreated',
  'RefreshTokenIssued',
  'RefreshTokenReuseDetected',
  'RefreshTokenRotated',
  'SigningKeyActivated',
  'SigningKeyGenerated',
  'SigningKeyLost',
  'SigningKeyRetired',
  'UserAuthenticated',
  'UserCreated',
  'UserDisabled',
  'UserEnabled',
  'UserErased',
  'UserLoginFailed',
  'UserPasswordChanged',
  'UsernameClaimed',
];

const event = (type: string): RecordedEvent => ({
  eventId: '00000000-0000-4000-8000-000000000000',
  globalPosition: 1,
  streamId: 'any-1',
  streamVersion: 1,
  type,
  schemaVersion: 1,
  data: { clientId: 'c1', sub: 's1', jti: 'j1', grantId: 'g1', username: 'u1', kid: 'k1' },
  metadata: {},
  recordedAt: new Date(0),
});

// Projection.eventTypes: the runner reads only the listed types, so keyOf must ignore the rest.
describe.each([
  clientsProjection,
  usersProjection,
  userGrantsProjection,
  tokenStateProjection,
  grantStateProjection,
])('projection $name lists every event type it folds', (projection: Projection) => {
  it('keyOf is null for every recorded type outside eventTypes', () => {
    expect(projection.eventTypes).toBeDefined();
    const listed = new Set(projection.eventTypes);
    for (const type of RECORDED_TYPES.filter((t) => !listed.has(t))) {
      expect([type, projection.keyOf(event(type))]).toEqual([type, null]);
    }
  });

  it('every listed type is one the services record, and keyOf takes it', () => {
    for (const type of projection.eventTypes ?? []) {
      expect(RECORDED_TYPES).toContain(type);
      expect([type, projection.keyOf(event(type))]).not.toEqual([type, null]);
    }
  });
});
