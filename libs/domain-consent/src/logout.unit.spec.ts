import { OAuthError } from '#lib/oauth-errors';
import { hintNamesSession, logoutClientId, postLogoutRedirect } from './logout.js';

describe('RP-Initiated Logout 1.0 request checks', () => {
  const hint = { sub: 'u1', aud: ['C1'], sid: 'S1' };

  it('§2: the client is client_id, or the hint audience; a mismatch is invalid_request', () => {
    expect(logoutClientId(undefined, undefined)).toBeUndefined();
    expect(logoutClientId('C1', undefined)).toBe('C1');
    expect(logoutClientId(undefined, hint)).toBe('C1');
    expect(logoutClientId('C1', hint)).toBe('C1');
    expect(() => logoutClientId('C2', hint)).toThrow(OAuthError);
    expect(() => logoutClientId('C2', hint)).toThrow(/does not match/);
    expect(() => logoutClientId(undefined, { ...hint, aud: ['C1', 'C2'] })).toThrow(OAuthError);
  });

  it('§3: redirects only to a registered URI, exactly matched, with state added', () => {
    const registered = ['https://rp.test/bye', 'https://rp.test/bye?x=1'];
    expect(postLogoutRedirect('https://rp.test/bye', undefined, registered)).toBe('https://rp.test/bye');
    expect(postLogoutRedirect('https://rp.test/bye', 'a b&c', registered)).toBe(
      'https://rp.test/bye?state=a+b%26c',
    );
    expect(postLogoutRedirect('https://rp.test/bye?x=1', 's', registered)).toBe(
      'https://rp.test/bye?x=1&state=s',
    );
    for (const other of [
      'https://rp.test/bye/',
      'https://RP.test/bye',
      'https://evil.test/',
      'https://rp.test/bye#f',
    ])
      expect(postLogoutRedirect(other, 's', registered)).toBeUndefined();
    expect(postLogoutRedirect('https://rp.test/bye', 's', undefined)).toBeUndefined();
    expect(postLogoutRedirect(undefined, 's', registered)).toBeUndefined();
  });

  it('§2: only a hint with this session sid (and user, unless pairwise) skips the question', () => {
    const session = { sid: 'S1', sub: 'u1' };
    expect(hintNamesSession(hint, session, false)).toBe(true);
    expect(hintNamesSession(undefined, session, false)).toBe(false);
    expect(hintNamesSession({ ...hint, sid: 'S2' }, session, false)).toBe(false);
    expect(hintNamesSession({ sub: 'u1', aud: ['C1'] }, session, false)).toBe(false);
    expect(hintNamesSession({ ...hint, sub: 'u2' }, session, false)).toBe(false);
    expect(hintNamesSession({ ...hint, sub: 'pairwise-x' }, session, true)).toBe(true);
  });
});
