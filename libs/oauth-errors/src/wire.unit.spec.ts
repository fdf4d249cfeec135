import { invalidClient, invalidGrant, OAuthError, serverError } from './oauth-error.js';
import { fromWire, toWire } from './wire.js';

const SERVER_ERROR = {
  error: 'server_error',
  error_description: 'the server encountered an unexpected condition',
  status: 500,
};

describe('errors leaving the process (RFC 6749 §5.2, checklist INP-12 / TREQ-14)', () => {
  it('keeps an OAuthError code, safe description and status, and nothing else', () => {
    const err = invalidGrant('the authorization code is invalid', {
      detail: 'code hash 9f86d0 not found in stream code-42',
      cause: new Error('relation "events" does not exist'),
    });
    const wire = toWire(err);
    expect(wire).toEqual({
      error: 'invalid_grant',
      error_description: 'the authorization code is invalid',
      status: 400,
    });
    const serialised = JSON.stringify(wire);
    expect(serialised).not.toContain('9f86d0');
    expect(serialised).not.toContain('relation');
    expect(serialised).not.toContain('stack');
    expect(serialised).not.toMatch(/\bat .*:\d+:\d+/);
  });

  it('carries the headers the gateway must send (WWW-Authenticate for Basic, RFC 6749 §5.2)', () => {
    const err = invalidClient('client authentication failed', {
      headers: { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' },
    });
    expect(toWire(err)).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
      status: 401,
      headers: { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' },
    });
  });

  it('omits headers when there are none', () => {
    expect(Object.keys(toWire(invalidClient()))).toEqual(['error', 'error_description', 'status']);
  });

  it('keeps a server_error detail and cause out of the wire form', () => {
    const wire = toWire(serverError('pg: duplicate key value violates unique constraint', new Error('boom')));
    expect(wire).toEqual(SERVER_ERROR);
  });

  it.each([
    [
      'a plain Error with a sensitive message',
      new Error('password authentication failed for user "postgres"'),
    ],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'clientId')")],
    ['a string', 'select * from secrets'],
    ['an object shaped like an OAuth error', { error: 'invalid_grant', error_description: 'x', status: 400 }],
    ['null', null],
    ['undefined', undefined],
  ])('turns %s into server_error 500', (_name, value) => {
    expect(toWire(value)).toEqual(SERVER_ERROR);
  });
});

describe('errors arriving from another process', () => {
  it('round-trips code, description, status and headers', () => {
    const original = invalidClient('client authentication failed', {
      headers: { 'WWW-Authenticate': 'Basic realm="token"' },
      detail: 'wrong secret',
    });
    const rebuilt = fromWire(JSON.parse(JSON.stringify(toWire(original))));
    expect(rebuilt).toBeInstanceOf(OAuthError);
    expect(rebuilt).toMatchObject({
      error: 'invalid_client',
      description: 'client authentication failed',
      status: 401,
      headers: { 'WWW-Authenticate': 'Basic realm="token"' },
    });
    // The detail stayed in the process that logged it.
    expect(rebuilt?.detail).toBeUndefined();
    expect(toWire(rebuilt)).toEqual(toWire(original));
  });

  it('keeps a non-default status (400 invalid_client for a body-authenticated client)', () => {
    expect(fromWire({ error: 'invalid_client', error_description: 'x', status: 400 })?.status).toBe(400);
  });

  it.each([
    ['an unknown code', { error: 'access_granted', error_description: 'x', status: 200 }],
    ['a code in the wrong case', { error: 'INVALID_GRANT', status: 400 }],
    ['an inherited property name', { error: 'toString' }],
    ['__proto__', JSON.parse('{"error":"__proto__"}')],
    ['a missing code', { error_description: 'x', status: 400 }],
    ['a numeric code', { error: 400 }],
    ['a string', 'invalid_grant'],
    ['null', null],
    ['undefined', undefined],
  ])('refuses %s', (_name, value) => {
    expect(fromWire(value)).toBeUndefined();
  });

  it('falls back to the default status when the status is missing or out of the 4xx/5xx range', () => {
    expect(fromWire({ error: 'invalid_grant', status: 200 })?.status).toBe(400);
    expect(fromWire({ error: 'invalid_grant', status: 302 })?.status).toBe(400);
    expect(fromWire({ error: 'server_error', status: 600 })?.status).toBe(500);
    expect(fromWire({ error: 'invalid_client', status: '400' })?.status).toBe(401);
  });

  it('uses the code as description when none is given', () => {
    expect(fromWire({ error: 'invalid_scope' })?.description).toBe('invalid_scope');
  });

  it('re-applies the description character rule to what it receives', () => {
    const rebuilt = fromWire({ error: 'invalid_request', error_description: 'a"b\\c\r\nSet-Cookie: x=1' });
    expect(rebuilt?.description).toBe('a?b?c??Set-Cookie: x=1');
  });
});
