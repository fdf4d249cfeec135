import { deciderSpecification, recordEvents, stateAfter } from '../../testing/src/decider-specification.js';
import {
  accessTokenStreamId,
  decideAccessToken,
  evolveAccessToken,
  initialAccessTokenState,
  type AccessTokenCommand,
  type AccessTokenIssued,
  type AccessTokenRevoked,
  type AccessTokenState,
  type IssueAccessToken,
} from './access-token.js';

const decider = {
  decide: decideAccessToken,
  evolve: evolveAccessToken,
  initialState: initialAccessTokenState,
};
const spec = deciderSpecification<AccessTokenCommand, AccessTokenState>(decider);

// 2030-01-01T00:00:00.750Z: iat is truncated to whole seconds.
const now = new Date(1_893_456_000_750);
const IAT = 1_893_456_000;
const later = new Date('2030-01-01T00:05:00.000Z');

const issue = (overrides: Partial<IssueAccessToken> = {}): IssueAccessToken => ({
  type: 'IssueAccessToken',
  jti: 'jti-1',
  clientId: 's1',
  sub: 's1',
  aud: ['https://api.test'],
  scope: ['read'],
  grantType: 'client_credentials',
  now,
  ttlSeconds: 600,
  kid: 'k1',
  ...overrides,
});

const issued: AccessTokenIssued = {
  type: 'AccessTokenIssued',
  data: {
    jti: 'jti-1',
    clientId: 's1',
    sub: 's1',
    aud: ['https://api.test'],
    scope: ['read'],
    grantType: 'client_credentials',
    iat: IAT,
    exp: IAT + 600,
    kid: 'k1',
  },
};

const revoked: AccessTokenRevoked = {
  type: 'AccessTokenRevoked',
  data: { jti: 'jti-1', revokedAt: later.toISOString(), revokedBy: 's1', reason: 'revocation_request' },
};

describe('access token lifecycle (RFC 9068 §2.2, RFC 7009 §2.1)', () => {
  it('issues a token: iat in whole seconds, exp = iat + ttl', () => {
    spec.given([]).when(issue()).then([issued]);
  });

  it('refuses to issue the same jti twice, as a server_error (jti reuse is a bug, not a client error)', () => {
    spec.given([issued]).when(issue()).thenThrows({ error: 'server_error', status: 500 });
  });

  it('refuses to reissue a revoked jti', () => {
    spec.given([issued, revoked]).when(issue()).thenThrows('server_error');
  });

  it('the refusal to reissue does not say why to the client', () => {
    try {
      decideAccessToken(issue(), stateAfter(decider, [issued]));
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toMatchObject({
        description: 'the server encountered an unexpected condition',
        detail: 'jti reused',
      });
    }
  });

  it('revoking an active token records AccessTokenRevoked (REV-03)', () => {
    spec.given([issued]).when({ type: 'RevokeAccessToken', revokedBy: 's1', now: later }).then([revoked]);
  });

  it('revoking an already revoked token changes nothing (RFC 7009 §2.2, REV-05)', () => {
    spec.given([issued, revoked]).when({ type: 'RevokeAccessToken', revokedBy: 's1', now: later }).then([]);
  });

  it('revoking an unknown token changes nothing (RFC 7009 §2.2, REV-04)', () => {
    spec.given([]).when({ type: 'RevokeAccessToken', revokedBy: 's1', now: later }).then([]);
  });

  it('records who revoked the token', () => {
    spec
      .given([issued])
      .when({ type: 'RevokeAccessToken', revokedBy: 'r1', now: later })
      .then([{ ...revoked, data: { ...revoked.data, revokedBy: 'r1' } }]);
  });

  it('the events carry the jti, never the token itself (STYLE habit 15)', () => {
    const [event] = decideAccessToken(issue(), initialAccessTokenState());
    expect(Object.keys((event as AccessTokenIssued).data).sort()).toEqual(
      ['aud', 'clientId', 'exp', 'grantType', 'iat', 'jti', 'kid', 'scope', 'sub'].sort(),
    );
  });

  it('names the stream access-token-<jti>', () => {
    expect(accessTokenStreamId('abc')).toBe('access-token-abc');
  });
});

describe('access token state (evolve)', () => {
  it('starts with no token', () => {
    expect(initialAccessTokenState()).toEqual({ status: 'none' });
  });

  it('is active after issue', () => {
    expect(stateAfter(decider, [issued])).toEqual({ status: 'active', token: issued.data });
  });

  it('is revoked after revocation, keeping the token data and the time', () => {
    expect(stateAfter(decider, [issued, revoked])).toEqual({
      status: 'revoked',
      token: issued.data,
      revokedAt: later.toISOString(),
    });
  });

  it('ignores a revocation with no issue before it', () => {
    expect(stateAfter(decider, [revoked])).toEqual({ status: 'none' });
  });

  it('ignores events of other types', () => {
    const state = stateAfter(decider, [issued]);
    const [other] = recordEvents([{ type: 'ClientRegistered', data: {} }]);
    expect(evolveAccessToken(state, other!)).toBe(state);
  });
});
