import type { UserProfile } from '#lib/contracts';
import { idTokenPlan } from './id-token.js';
import { userClaims, userInfoClaims } from './userinfo.js';

const alice: UserProfile = {
  sub: 'u-alice',
  username: 'alice',
  email: 'alice@example.test',
  name: 'Alice',
  status: 'active',
};
const bob: UserProfile = { sub: 'u-bob', username: 'bob', status: 'active' };

describe('claims the request parameter named (OpenID Connect Core §5.5)', () => {
  it('UserInfo: the named claims besides those of the scope, only those the user has', () => {
    expect(userInfoClaims(alice, ['openid'], 'p-1', ['email'])).toEqual({
      sub: 'p-1',
      email: 'alice@example.test',
    });
    expect(userInfoClaims(alice, ['openid', 'profile'], 'p-1', ['email_verified'])).toEqual({
      sub: 'p-1',
      name: 'Alice',
      preferred_username: 'alice',
      email_verified: false,
    });
    expect(userInfoClaims(bob, ['openid'], 'p-2', ['email', 'email_verified', 'name'])).toEqual({
      sub: 'p-2',
    });
    expect(userInfoClaims(alice, ['openid'], 'p-1')).toEqual({ sub: 'p-1' });
  });

  it('never takes sub, or an unknown name, from the user claims', () => {
    expect(userClaims(alice, ['sub', 'password', 'status', 'username'])).toEqual({});
    expect(userInfoClaims(alice, ['openid'], 'p-1', ['sub'])).toEqual({ sub: 'p-1' });
  });

  it('ID token: the plan names the grant subject and the id_token names, none when the grant has none', () => {
    const client = { clientId: 'c1', redirectUris: ['https://rp.test/cb'] };
    const issue = { now: new Date('2030-01-01T00:00:00Z'), exchange: 'code' as const };
    const grant = { sub: 'u-alice', authTime: 1, claims: { userinfo: ['name'], idToken: ['email'] } };
    const plan = idTokenPlan({ issuer: 'https://as.test' }, grant, client, ['openid'], issue);
    expect(plan.idToken?.userClaims).toEqual({ sub: 'u-alice', names: ['email'] });
    const without = idTokenPlan(
      { issuer: 'https://as.test' },
      { sub: 'u-alice', authTime: 1 },
      client,
      ['openid'],
      issue,
    );
    expect(without.idToken).toBeDefined();
    expect(without.idToken?.userClaims).toBeUndefined();
    expect(idTokenPlan({ issuer: 'https://as.test' }, grant, client, ['read'], issue)).toEqual({});
  });
});
