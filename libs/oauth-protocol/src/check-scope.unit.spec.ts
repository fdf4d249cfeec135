import { OAuthError } from '#lib/oauth-errors';
import { formatScope, isValidScopeToken, parseScope, resolveRequestedScope } from './check-scope.js';

function refusal(run: () => unknown): OAuthError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
  throw new Error('expected an OAuthError, but nothing was thrown');
}

function expectInvalidScope(run: () => unknown) {
  const err = refusal(run);
  expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_scope', status: 400 });
  return err;
}

describe('access token scope syntax (RFC 6749 §3.3)', () => {
  it('splits on single spaces', () => {
    expect(parseScope('read write')).toEqual(['read', 'write']);
  });

  it('collapses duplicates', () => {
    expect(parseScope('read write read')).toEqual(['read', 'write']);
  });

  it('accepts every character of scope-token: %x21 / %x23-5B / %x5D-7E', () => {
    expect(parseScope('! # [ ] ~ https://api.test/read urn:x:y')).toEqual([
      '!',
      '#',
      '[',
      ']',
      '~',
      'https://api.test/read',
      'urn:x:y',
    ]);
  });

  it.each([
    ['an empty string', ''],
    ['a leading space', ' read'],
    ['a trailing space', 'read '],
    ['two spaces', 'read  write'],
    ['a tab separator', 'read\twrite'],
    ['a double quote %x22', 'read "write"'],
    ['a backslash %x5C', 'read\\write'],
    ['a non-ASCII letter', 'lecture écriture'],
    ['a control character', 'read\u0000'],
    ['DEL', 'read\u007f'],
    ['a newline', 'read\nwrite'],
  ])('refuses %s with invalid_scope', (_name, raw) => {
    expectInvalidScope(() => parseScope(raw));
  });

  it.each([
    ['read', true],
    ['a:b/c', true],
    ['', false],
    ['a b', false],
    ['a"b', false],
    ['a\\b', false],
    ['é', false],
  ])('isValidScopeToken(%p) is %p', (token, valid) => {
    expect(isValidScopeToken(token)).toBe(valid);
  });

  it('formats scope as a space-separated list', () => {
    expect(formatScope(['read', 'write'])).toBe('read write');
    expect(formatScope([])).toBe('');
  });
});

describe('requested scope against the client (RFC 6749 §3.3; checklist CC-05, CC-08, decision 6)', () => {
  const client = { scope: ['read', 'write', 'https://api.test/x'], defaultScope: ['read'] };

  it('grants exactly the requested scope when the client may use all of it', () => {
    expect(resolveRequestedScope('write read', client)).toEqual(['write', 'read']);
  });

  it('is order-insensitive: both orders are granted the same set', () => {
    expect(new Set(resolveRequestedScope('read write', client))).toEqual(
      new Set(resolveRequestedScope('write read', client)),
    );
  });

  it('collapses a repeated scope token', () => {
    expect(resolveRequestedScope('read read', client)).toEqual(['read']);
  });

  it.each([undefined, ''])('uses the default scope when scope is %p (decision 6)', (requested) => {
    expect(resolveRequestedScope(requested, client)).toEqual(['read']);
  });

  it('returns a copy of the default scope, not the client array itself', () => {
    const granted = resolveRequestedScope(undefined, client);
    granted.push('admin');
    expect(client.defaultScope).toEqual(['read']);
  });

  it('an omitted scope with no default is invalid_scope (decision 6)', () => {
    expectInvalidScope(() => resolveRequestedScope(undefined, { scope: ['read'], defaultScope: [] }));
  });

  it('a scope the client may not use is invalid_scope, never a silent subset (CC-05)', () => {
    const err = expectInvalidScope(() => resolveRequestedScope('read admin', client));
    expect(err.description).toBe('scope not allowed for this client: admin');
  });

  it('a client with no allowed scope gets invalid_scope for any scope', () => {
    expectInvalidScope(() => resolveRequestedScope('read', { scope: [], defaultScope: [] }));
  });

  it('scope matching is exact and case-sensitive', () => {
    expectInvalidScope(() => resolveRequestedScope('READ', client));
    expectInvalidScope(() => resolveRequestedScope('rea', client));
  });

  it('does not match inherited property names', () => {
    expectInvalidScope(() => resolveRequestedScope('constructor', client));
    expectInvalidScope(() => resolveRequestedScope('__proto__', client));
  });

  it('a malformed scope is invalid_scope even when each word is allowed', () => {
    expectInvalidScope(() => resolveRequestedScope('read  write', client));
  });
});
