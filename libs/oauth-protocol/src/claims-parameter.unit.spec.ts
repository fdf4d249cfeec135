import { claimsWithinScope, hasRequestedClaims, parseClaimsParameter } from './claims-parameter.js';

describe('the claims request parameter (OpenID Connect Core §5.5)', () => {
  it('keeps the names of the claims this server can release, per member', () => {
    expect(
      parseClaimsParameter(
        JSON.stringify({
          userinfo: { email: null, name: { essential: true } },
          id_token: { email: { essential: true, value: 'a@b.test', values: ['x'] }, auth_time: null },
        }),
      ),
    ).toEqual({ claims: { userinfo: ['email', 'name'], idToken: ['email'] } });
  });

  it('ignores unknown claim names and unknown members (§5.5: the OP may ignore them)', () => {
    const parsed = parseClaimsParameter(
      JSON.stringify({ userinfo: { 'https://x.test/role': null, phone_number: null }, other: 1 }),
    );
    expect(parsed).toEqual({ claims: { userinfo: [], idToken: [] } });
    expect(hasRequestedClaims('claims' in parsed ? parsed.claims : undefined)).toBe(false);
    expect(hasRequestedClaims({ userinfo: [], idToken: ['email'] })).toBe(true);
    expect(parseClaimsParameter('{}')).toEqual({ claims: { userinfo: [], idToken: [] } });
  });

  it.each([
    ['not JSON', '{"userinfo":'],
    ['an array', '[]'],
    ['null', 'null'],
    ['a number', '12'],
    ['a member that is not an object', '{"userinfo":["email"]}'],
    ['a member that is null', '{"id_token":null}'],
    ['a claim request of true', '{"userinfo":{"email":true}}'],
    ['a claim request that is an array', '{"userinfo":{"email":[]}}'],
    ['essential not a boolean', '{"userinfo":{"email":{"essential":1}}}'],
    ['value not a string', '{"userinfo":{"email":{"value":1}}}'],
    ['values not an array of strings', '{"userinfo":{"email":{"values":"a"}}}'],
    ['values with a number', '{"userinfo":{"email":{"values":["a",2]}}}'],
    ['over 2048 characters', JSON.stringify({ userinfo: { email: { value: 'x'.repeat(2100) } } })],
    [
      'more than 32 claims in a member',
      JSON.stringify({ id_token: Object.fromEntries([...Array(33).keys()].map((i) => [`c${i}`, null])) }),
    ],
    ['a claim name of over 256 characters', JSON.stringify({ userinfo: { ['n'.repeat(300)]: null } })],
  ])('refuses %s', (_, raw) => {
    const parsed = parseClaimsParameter(raw);
    expect('error' in parsed && parsed.error).toMatch(/^claims/);
  });

  it('accepts exactly 32 claims in a member', () => {
    const raw = JSON.stringify({
      userinfo: Object.fromEntries([...Array(32).keys()].map((i) => [`c${i}`, null])),
    });
    expect(parseClaimsParameter(raw)).toEqual({ claims: { userinfo: [], idToken: [] } });
  });

  it('keeps only the claims of scopes the client is registered for (Core §5.4)', () => {
    const claims = { userinfo: ['email', 'name'], idToken: ['email_verified', 'preferred_username'] };
    expect(claimsWithinScope(claims, ['openid', 'email'])).toEqual({
      userinfo: ['email'],
      idToken: ['email_verified'],
    });
    expect(claimsWithinScope(claims, ['openid'])).toEqual({ userinfo: [], idToken: [] });
  });
});
