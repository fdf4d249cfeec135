import { OAuthError } from '#lib/oauth-errors';
import {
  formatScope,
  isValidScopeToken,
  MAX_SCOPE_TOKEN_LENGTH,
  MAX_SCOPE_TOKENS,
  parseScope,
  resolveRequestedScope,
  scopeCovers,
  scopeWithinGrant,
} from './check-scope.js';

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
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
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

describe('scope sizes (RFC 6749 §3.3 leaves them to the server; issue 20)', () => {
  const tokens = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);

  it(`accepts ${MAX_SCOPE_TOKENS} values of ${MAX_SCOPE_TOKEN_LENGTH} characters`, () => {
    const longest = tokens(MAX_SCOPE_TOKENS).map((t) => t.padEnd(MAX_SCOPE_TOKEN_LENGTH, 'x'));
    expect(parseScope(longest.join(' '))).toHaveLength(MAX_SCOPE_TOKENS);
  });

  it.each([
    ['one value too many', tokens(MAX_SCOPE_TOKENS + 1).join(' ')],
    ['16,000 values', tokens(16000).join(' ')],
    ['5,000 repetitions of one value', Array.from({ length: 5000 }, () => 'read').join(' ')],
    ['a megabyte of scope', 'x'.repeat(1 << 20)],
  ])('refuses %s with invalid_scope', (_name, raw) => {
    const err = expectInvalidScope(() => parseScope(raw));
    expect(err.description.length).toBeLessThan(100);
  });

  it('refuses a value longer than the bound without echoing it', () => {
    const err = expectInvalidScope(() => parseScope(`read ${'x'.repeat(MAX_SCOPE_TOKEN_LENGTH + 1)}`));
    expect(err.description).not.toContain('xxxx');
  });

  it('resolveRequestedScope refuses an oversized request before comparing it', () => {
    const client = { scope: tokens(MAX_SCOPE_TOKENS), defaultScope: [] };
    expectInvalidScope(() => resolveRequestedScope(tokens(MAX_SCOPE_TOKENS + 1).join(' '), client));
  });

  it('compares as sets: 100,000 held values against 100,000 requested in well under a second', () => {
    const held = tokens(100000);
    const started = performance.now();
    expect(scopeCovers(held, [...held].reverse())).toBe(true);
    expect(scopeWithinGrant(undefined, held, held)).toHaveLength(100000);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('scope of a grant at the token endpoint (RFC 6749 §6; issue 20)', () => {
  const granted = ['email', 'profile'];

  it("omitted: the granted scope within the client's current scope", () => {
    expect(scopeWithinGrant(undefined, granted, ['email', 'profile', 'other'])).toEqual(granted);
    expect(scopeWithinGrant(undefined, granted, ['profile'])).toEqual(['profile']);
    expect(scopeWithinGrant([], granted, ['profile'])).toEqual(['profile']);
  });

  it('requested: a narrower scope within both', () => {
    expect(scopeWithinGrant(['profile'], granted, ['email', 'profile'])).toEqual(['profile']);
  });

  it('requested beyond the grant is invalid_scope (RFC 6749 §6)', () => {
    const err = expectInvalidScope(() =>
      scopeWithinGrant(['profile', 'admin'], granted, ['admin', 'profile']),
    );
    expect(err.description).toBe('scope exceeds the grant: admin');
  });

  it('requested beyond what the client may still request is invalid_scope, never a silent subset', () => {
    const err = expectInvalidScope(() => scopeWithinGrant(['email', 'profile'], granted, ['profile']));
    expect(err.description).toBe('scope no longer allowed for this client: email');
  });

  it('nothing left is invalid_scope', () => {
    expectInvalidScope(() => scopeWithinGrant(undefined, granted, ['other']));
    expectInvalidScope(() => scopeWithinGrant(undefined, granted, []));
  });

  it('scopeCovers: every requested value held', () => {
    expect(scopeCovers(['a', 'b'], ['b'])).toBe(true);
    expect(scopeCovers(['a', 'b'], ['b', 'c'])).toBe(false);
    expect(scopeCovers([], [])).toBe(true);
  });
});
