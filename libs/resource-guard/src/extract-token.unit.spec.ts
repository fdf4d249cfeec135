import {
  bearerChallenge,
  bearerErrorBody,
  insufficientScope,
  invalidToken,
  missingToken,
} from './bearer-error.js';
import { extractBearerToken } from './extract-token.js';

const get = (authorization: string | string[] | undefined, url = '/api/me', body?: unknown) =>
  extractBearerToken({ authorization, url, body });

describe('Bearer token extraction (RFC 6750 §2)', () => {
  it('takes the token of an Authorization: Bearer header, scheme case-insensitive', () => {
    expect(get('Bearer abc.def-_~+/==')).toEqual({ token: 'abc.def-_~+/==' });
    expect(get('bearer abc')).toEqual({ token: 'abc' });
    expect(get('BEARER abc')).toEqual({ token: 'abc' });
  });

  it('no credentials: 401 with no error code (§3.1)', () => {
    const r = get(undefined);
    expect('error' in r && r.error.status).toBe(401);
    expect('error' in r && r.error.error).toBeUndefined();
  });

  it('another scheme is no bearer credential: 401 with no error code', () => {
    const r = get('Basic dXNlcjpwYXNz');
    expect('error' in r && [r.error.status, r.error.error]).toEqual([401, undefined]);
  });

  it.each([
    ['Bearer'],
    ['Bearer '],
    ['Bearer a b'],
    ['Bearer a,b'],
    ['Bearer "abc"'],
    ['Bearer a=b'],
    ['Bearer\tabc'],
    [','],
  ])('malformed header %j: 400 invalid_request', (header) => {
    const r = get(header);
    expect('error' in r && [r.error.status, r.error.error]).toEqual([400, 'invalid_request']);
  });

  it('two Authorization headers: 400 invalid_request', () => {
    const r = get(['Bearer a', 'Bearer b']);
    expect('error' in r && [r.error.status, r.error.error]).toEqual([400, 'invalid_request']);
  });

  it('a token in the query string is refused (400 invalid_request), header or not', () => {
    for (const auth of [undefined, 'Bearer abc']) {
      const r = get(auth, '/api/me?access_token=abc');
      expect('error' in r && [r.error.status, r.error.error]).toEqual([400, 'invalid_request']);
      expect('error' in r && r.error.description).toMatch(/query string/);
    }
  });

  it('a token in a form body is refused (400 invalid_request)', () => {
    const r = get(undefined, '/api/me', { access_token: 'abc' });
    expect('error' in r && [r.error.status, r.error.error]).toEqual([400, 'invalid_request']);
  });

  it('other query parameters are fine', () => {
    expect(get('Bearer abc', '/api/me?x=access_token')).toEqual({ token: 'abc' });
  });
});

describe('WWW-Authenticate challenge (RFC 6750 §3)', () => {
  it('no credentials: realm only', () => {
    expect(bearerChallenge(missingToken(), 'http://rs')).toBe('Bearer realm="http://rs"');
  });

  it('invalid_token carries error and description', () => {
    expect(bearerChallenge(invalidToken('the access token expired'), 'rs')).toBe(
      'Bearer realm="rs", error="invalid_token", error_description="the access token expired"',
    );
  });

  it('insufficient_scope names the scope needed, 403', () => {
    const err = insufficientScope(['email']);
    expect(err.status).toBe(403);
    expect(bearerChallenge(err, 'rs')).toBe(
      'Bearer realm="rs", error="insufficient_scope", error_description="this request needs scope: email", scope="email"',
    );
    expect(bearerErrorBody(err)).toMatchObject({ error: 'insufficient_scope', scope: 'email' });
  });

  it('quotes and backslashes never break the header', () => {
    expect(bearerChallenge(invalidToken('a "b" \\ c\n'), 'r"')).toBe(
      'Bearer realm="r?", error="invalid_token", error_description="a ?b? ? c?"',
    );
  });
});
