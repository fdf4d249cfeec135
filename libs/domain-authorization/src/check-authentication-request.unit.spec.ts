import {
  authenticationStep,
  hintNamesUser,
  checkAuthenticationParameters,
  pageLanguage,
} from './check-authentication-request.js';

const params = (q: Record<string, string>) => new Map(Object.entries(q).map(([k, v]) => [k, [v]]));
const oidc = ['openid'];

describe('OpenID Connect Core §3.1.2.1 authentication request parameters (issue 22)', () => {
  it('a plain OAuth request ignores them all (RFC 6749 behaviour kept)', () => {
    expect(checkAuthenticationParameters(params({ prompt: 'bogus', max_age: 'x' }), ['read'])).toEqual({});
  });

  it('reads prompt, max_age, login_hint, acr_values, ui_locales; ignores display', () => {
    expect(
      checkAuthenticationParameters(
        params({
          prompt: 'login consent',
          max_age: '0',
          login_hint: 'alice',
          acr_values: 'urn:a urn:b',
          ui_locales: 'fr-CA en <x>',
          display: 'wap-nonsense',
        }),
        oidc,
      ),
    ).toEqual({
      authentication: {
        prompt: ['login', 'consent'],
        maxAge: 0,
        loginHint: 'alice',
        acrValues: ['urn:a', 'urn:b'],
        uiLocales: ['fr-CA', 'en'],
      },
    });
  });

  it('claims (Core §5.5): the releasable names kept; malformed is invalid_request; a plain OAuth request ignores it', () => {
    const claims = JSON.stringify({
      userinfo: { email: null, role: null },
      id_token: { name: { essential: true } },
    });
    expect(checkAuthenticationParameters(params({ claims }), oidc)).toEqual({
      authentication: { prompt: [], claims: { userinfo: ['email'], idToken: ['name'] } },
    });
    expect(checkAuthenticationParameters(params({ claims: '{"userinfo":{"x":null}}' }), oidc)).toEqual({
      authentication: { prompt: [] },
    });
    expect(checkAuthenticationParameters(params({ claims: '[1]' }), oidc)).toEqual({
      error: { error: 'invalid_request', description: 'claims must be a JSON object' },
    });
    expect(checkAuthenticationParameters(params({ claims: '{' }), ['read'])).toEqual({});
  });

  it.each([
    [{ prompt: 'none login' }, 'prompt=none cannot be combined'],
    [{ prompt: 'sometimes' }, 'unsupported prompt value'],
    [{ max_age: '-1' }, 'max_age'],
    [{ max_age: '1.5' }, 'max_age'],
    [{ login_hint: 'a'.repeat(257) }, 'login_hint'],
  ])('%j is invalid_request', (q, description) => {
    const checked = checkAuthenticationParameters(params(q), oidc);
    expect(checked).toEqual({
      error: { error: 'invalid_request', description: expect.stringContaining(description) },
    });
  });

  const startedAt = 1_000_000;
  const now = startedAt + 5_000;
  const step = (q: Record<string, string>, session: { authTime: number } | null) => {
    const checked = checkAuthenticationParameters(params(q), oidc);
    if ('error' in checked) throw new Error('unexpected');
    return authenticationStep(checked.authentication, session, { startedAt, now });
  };

  it('prompt=none: login_required without a session or when a login would be needed, never a page', () => {
    expect(step({ prompt: 'none' }, null)).toBe('login_required');
    expect(step({ prompt: 'none', max_age: '0' }, { authTime: startedAt - 1 })).toBe('login_required');
    expect(step({ prompt: 'none' }, { authTime: startedAt - 60_000 })).toBe('proceed');
  });

  it('prompt=login and select_account log in again, once: not after a login during the request', () => {
    expect(step({ prompt: 'login' }, { authTime: startedAt - 1 })).toBe('login');
    expect(step({ prompt: 'select_account' }, { authTime: startedAt - 1 })).toBe('login');
    expect(step({ prompt: 'login' }, { authTime: startedAt + 1 })).toBe('proceed');
  });

  it('max_age: a session older than it logs in again; max_age=0 always (Core §3.1.2.1)', () => {
    expect(step({ max_age: '60' }, { authTime: now - 59_000 })).toBe('proceed');
    expect(step({ max_age: '60' }, { authTime: now - 61_000 })).toBe('login');
    expect(step({ max_age: '60' }, { authTime: now - 59_000 - 1 })).toBe('proceed');
    expect(step({ max_age: '0' }, { authTime: startedAt - 1 })).toBe('login');
    expect(step({ max_age: '0' }, { authTime: startedAt })).toBe('proceed');
  });

  it("Registration §2: the client's default_max_age applies when the request has no max_age", () => {
    const withDefault = (q: Record<string, string>, authTime: number) => {
      const checked = checkAuthenticationParameters(params(q), oidc, { defaultMaxAge: 60 });
      if ('error' in checked) throw new Error('unexpected');
      return authenticationStep(checked.authentication, { authTime }, { startedAt, now });
    };
    expect(withDefault({}, now - 59_000)).toBe('proceed');
    expect(withDefault({}, now - 61_000)).toBe('login');
    // The request's max_age overrides the default, either way.
    expect(withDefault({ max_age: '3600' }, now - 61_000)).toBe('proceed');
    expect(withDefault({ max_age: '0' }, startedAt - 1)).toBe('login');
    expect(checkAuthenticationParameters(params({}), oidc, { defaultMaxAge: 0 })).toEqual({
      authentication: { prompt: [], maxAge: 0 },
    });
    // A plain OAuth request keeps RFC 6749's behaviour.
    expect(checkAuthenticationParameters(params({}), ['read'], { defaultMaxAge: 0 })).toEqual({});
  });

  it('id_token_hint (§3.1.2.1): kept for the endpoint to verify; a hint that does not name the signed-in user asks for a login (login_required with prompt=none)', () => {
    expect(checkAuthenticationParameters(params({ id_token_hint: 'h.e.s' }), oidc)).toEqual({
      authentication: { prompt: [], idTokenHint: 'h.e.s' },
    });
    expect(checkAuthenticationParameters(params({ id_token_hint: 'a'.repeat(8193) }), oidc)).toEqual({
      error: { error: 'invalid_request', description: 'id_token_hint is too long' },
    });
    const withHint = (prompt: string, names: boolean, authTime = startedAt - 1) =>
      authenticationStep(
        { prompt: prompt === '' ? [] : [prompt as 'none'], hint: { sub: 'u', sid: 's' } },
        { authTime, hintNamesUser: names },
        { startedAt, now },
      );
    expect(withHint('none', true)).toBe('proceed');
    expect(withHint('none', false)).toBe('login_required');
    expect(withHint('', false)).toBe('login');
    // Once the user has logged in during this request, the request goes on.
    expect(withHint('', false, startedAt + 1)).toBe('proceed');
  });

  it("hintNamesUser: the same session, or the same sub for a client that sees the user's own identifier", () => {
    const session = { sid: 'S1', sub: 'alice' };
    expect(hintNamesUser({ sub: 'alice', sid: 'S1' }, session, false)).toBe(true);
    expect(hintNamesUser({ sub: 'alice', sid: 'S0' }, session, false)).toBe(true);
    expect(hintNamesUser({ sub: 'bob', sid: 'S0' }, session, false)).toBe(false);
    expect(hintNamesUser({ sub: 'pairwise-alice', sid: 'S1' }, session, true)).toBe(true);
    // A pairwise sub cannot be compared with the user's own: another session is not the user's.
    expect(hintNamesUser({ sub: 'alice', sid: 'S0' }, session, true)).toBe(false);
  });

  it('no session: the login page', () => {
    expect(authenticationStep(undefined, null, { startedAt, now })).toBe('login');
    expect(authenticationStep(undefined, { authTime: 0 }, { startedAt, now })).toBe('proceed');
  });

  it('ui_locales: the first language the pages are written in', () => {
    expect(pageLanguage({ prompt: [], uiLocales: ['fr', 'en-GB', 'en'] })).toBe('en-GB');
    expect(pageLanguage({ prompt: [], uiLocales: ['fr'] })).toBeUndefined();
  });
});
