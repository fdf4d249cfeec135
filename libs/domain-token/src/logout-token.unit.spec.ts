import { BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TTL_SECONDS, logoutTokenPlan } from './logout-token.js';
import { subjectFor } from './subject.js';

const key = Buffer.alloc(32, 7);
const config = { issuer: 'https://as.example.test', pairwiseSubjectKey: () => key };
const now = new Date('2030-01-01T00:00:00Z');
const client = { clientId: 'C1', redirectUris: ['https://rp.test/cb'] };

describe('logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4)', () => {
  it('carries iss, aud, iat, a short exp, jti, sid, sub and the event; never a nonce; RS256 by default', () => {
    const plan = logoutTokenPlan(config, client, { sid: 'S1', sub: 'alice' }, { jti: 'J1', now });
    const iat = now.getTime() / 1000;
    expect(plan).toEqual({
      alg: 'RS256',
      claims: {
        iss: 'https://as.example.test',
        sub: 'alice',
        aud: 'C1',
        iat,
        exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
        jti: 'J1',
        sid: 'S1',
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      },
    });
    expect(plan.claims).not.toHaveProperty('nonce');
    expect(LOGOUT_TOKEN_TTL_SECONDS).toBeLessThanOrEqual(120);
  });

  it("is signed with the client's ID-token alg, and names the user as the client sees them (Core §8.1 pairwise)", () => {
    const pairwise = {
      ...client,
      subjectType: 'pairwise' as const,
      idTokenSignedResponseAlg: 'EdDSA' as const,
    };
    const plan = logoutTokenPlan(config, pairwise, { sid: 'S1', sub: 'alice' }, { jti: 'J1', now });
    expect(plan.alg).toBe('EdDSA');
    expect(plan.claims.sub).toBe(subjectFor('alice', pairwise, () => key));
    expect(plan.claims.sub).not.toBe('alice');
  });
});
