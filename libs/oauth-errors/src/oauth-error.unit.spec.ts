import {
  invalidClient,
  invalidRequest,
  isOAuthErrorCode,
  OAuthError,
  sanitizeDescription,
  serverError,
  temporarilyUnavailable,
} from './oauth-error.js';

/** RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ). */
const DESCRIPTION_CHARS = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

describe('error_description character set (RFC 6749 §5.2)', () => {
  it('keeps every allowed character unchanged', () => {
    let allowed = '';
    for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x22 && c !== 0x5c) allowed += String.fromCharCode(c);
    expect(allowed).toHaveLength(93);
    expect(sanitizeDescription(allowed)).toBe(allowed);
  });

  it.each([
    ['double quote %x22', 'a"b', 'a?b'],
    ['backslash %x5C', 'a\\b', 'a?b'],
    ['CR LF (header injection)', 'x\r\nLocation: https://evil.test', 'x??Location: https://evil.test'],
    ['tab', 'a\tb', 'a?b'],
    ['NUL', 'a\u0000b', 'a?b'],
    ['DEL %x7F', 'a\u007fb', 'a?b'],
    ['non-ASCII', 'café', 'caf?'],
  ])('replaces %s', (_name, input, expected) => {
    expect(sanitizeDescription(input)).toBe(expected);
    expect(sanitizeDescription(input)).toMatch(DESCRIPTION_CHARS);
  });

  it('replaces each UTF-16 unit of an astral character, so the result stays in the allowed set', () => {
    expect(sanitizeDescription('a😀b')).toBe('a??b');
  });

  it('caps the description at 300 characters', () => {
    expect(sanitizeDescription('x'.repeat(1000))).toHaveLength(300);
  });

  it('is applied by the OAuthError constructor', () => {
    const err = invalidRequest('bad "value"\n\\');
    expect(err.description).toBe('bad ?value???');
    expect(err.description).toMatch(DESCRIPTION_CHARS);
  });
});

describe('OAuth error codes and default statuses (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1)', () => {
  it.each([
    ['invalid_request', 400],
    ['invalid_client', 401],
    ['invalid_grant', 400],
    ['unauthorized_client', 400],
    ['unsupported_grant_type', 400],
    ['invalid_scope', 400],
    ['server_error', 500],
    ['temporarily_unavailable', 503],
    ['unsupported_token_type', 400],
    ['invalid_client_metadata', 400],
    ['invalid_token', 401],
    ['insufficient_scope', 403],
  ] as const)('%s defaults to %i', (code, status) => {
    const err = new OAuthError(code, 'x');
    expect(err.error).toBe(code);
    expect(err.status).toBe(status);
  });

  it('takes an explicit status over the default', () => {
    expect(new OAuthError('invalid_client', 'x', { status: 400 }).status).toBe(400);
  });

  it.each(['invalid_request', 'invalid_client', 'not_found'])('recognises %s as a code', (code) => {
    expect(isOAuthErrorCode(code)).toBe(true);
  });

  it.each([
    'Invalid_Request',
    'invalid-request',
    '',
    'toString',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    42,
    null,
    undefined,
  ])('does not recognise %p as a code (own keys only)', (value) => {
    expect(isOAuthErrorCode(value)).toBe(false);
  });

  it('withStatus and withDetail keep the code, description, headers and each other', () => {
    const base = invalidClient('client authentication failed', {
      headers: { 'WWW-Authenticate': 'Basic realm="token"' },
    });
    const changed = base.withDetail('wrong secret').withStatus(400);
    expect(changed).toBeInstanceOf(OAuthError);
    expect(changed).toMatchObject({
      error: 'invalid_client',
      description: 'client authentication failed',
      status: 400,
      detail: 'wrong secret',
      headers: { 'WWW-Authenticate': 'Basic realm="token"' },
    });
    expect(base.status).toBe(401);
    expect(base.detail).toBeUndefined();
  });

  it('server_error and temporarily_unavailable keep the internal detail out of the description', () => {
    const cause = new Error('connect ECONNREFUSED 10.0.0.7:5432');
    const s = serverError('SELECT * FROM events failed', cause);
    expect(s).toMatchObject({
      error: 'server_error',
      status: 500,
      detail: 'SELECT * FROM events failed',
      cause,
    });
    expect(s.description).toBe('the server encountered an unexpected condition');
    const t = temporarilyUnavailable('nats timeout on authz.token.issue');
    expect(t).toMatchObject({ error: 'temporarily_unavailable', status: 503 });
    expect(t.description).not.toContain('nats');
  });
});
