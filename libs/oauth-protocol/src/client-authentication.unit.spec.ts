import { OAuthError } from '#lib/oauth-errors';
import {
  BASIC_CHALLENGE,
  parseBasicAuthorization,
  parseClientAuthentication,
} from './client-authentication.js';

/** RFC 6749 Appendix B: application/x-www-form-urlencoded, then RFC 7617 base64. */
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;
const rawBasic = (decoded: string | Buffer) =>
  `Basic ${(typeof decoded === 'string' ? Buffer.from(decoded, 'utf8') : decoded).toString('base64')}`;

function refusal(run: () => unknown): OAuthError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
  throw new Error('expected an OAuthError, but nothing was thrown');
}

/** Checklist decision 8: 401 invalid_client with the Basic challenge (RFC 6749 §5.2, RFC 7617 §2). */
function expectBasicChallenge(run: () => unknown) {
  const err = refusal(run);
  expect({ error: err.error, status: err.status, headers: err.headers }).toEqual({
    error: 'invalid_client',
    status: 401,
    headers: { 'WWW-Authenticate': BASIC_CHALLENGE },
  });
}

function expectInvalidRequest(run: () => unknown) {
  const err = refusal(run);
  expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_request', status: 400 });
}

describe('client authentication (RFC 6749 §2.3.1)', () => {
  describe('client_secret_basic', () => {
    it('accepts a valid Basic header', () => {
      expect(parseClientAuthentication(basic('s1', 'secret-1'), {})).toEqual({
        method: 'client_secret_basic',
        clientId: 's1',
        clientSecret: 'secret-1',
      });
    });

    it('the challenge names the Basic scheme and a realm (RFC 7617 §2)', () => {
      expect(BASIC_CHALLENGE).toMatch(/^Basic realm="[^"]+"/);
    });

    // CAUTH-01: id and secret are form-urlencoded before base64 (Appendix B).
    it.each([
      ['a colon', 'client:one', 'se:cr:et'],
      ['a percent sign', 'client%one', '100%'],
      ['a plus sign', 'client+one', 'a+b'],
      ['a space', 'client one', 'a b'],
      ['all of them and non-ASCII', 'c: %+é', 's: %+😀'],
    ])('decodes an id and secret containing %s (CAUTH-01)', (_name, clientId, clientSecret) => {
      expect(parseClientAuthentication(basic(clientId, clientSecret), {})).toEqual({
        method: 'client_secret_basic',
        clientId,
        clientSecret,
      });
    });

    it('accepts raw UTF-8 as advertised by charset="UTF-8" (RFC 7617 §2.1)', () => {
      expect(parseBasicAuthorization(rawBasic('clïent:sécret'))).toEqual({
        clientId: 'clïent',
        clientSecret: 'sécret',
      });
    });

    it('splits at the first colon: an unencoded colon stays in the secret', () => {
      expect(parseBasicAuthorization(rawBasic('id:a:b'))).toEqual({ clientId: 'id', clientSecret: 'a:b' });
    });

    it('reads an unencoded + as a space, as form decoding does', () => {
      expect(parseBasicAuthorization(rawBasic('id:a+b'))).toEqual({ clientId: 'id', clientSecret: 'a b' });
    });

    it('refuses an unencoded % that is not a valid escape (CAUTH-01)', () => {
      expectBasicChallenge(() => parseClientAuthentication(rawBasic('id:100%'), {}));
      expectBasicChallenge(() => parseClientAuthentication(rawBasic('id%zz:secret'), {}));
    });

    it('refuses a NUL in the decoded id or secret (INP-05)', () => {
      expectBasicChallenge(() => parseClientAuthentication(rawBasic('id:a%00b'), {}));
      expectBasicChallenge(() => parseClientAuthentication(rawBasic('id%00:secret'), {}));
    });

    it('accepts a lower-case or upper-case scheme name (CAUTH-18, RFC 9110 §11.1)', () => {
      const token = Buffer.from('s1:secret').toString('base64');
      for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
        expect(parseClientAuthentication(`${scheme} ${token}`, {})).toEqual({
          method: 'client_secret_basic',
          clientId: 's1',
          clientSecret: 'secret',
        });
      }
    });

    it('accepts a body client_id equal to the Basic one (CAUTH-09)', () => {
      expect(parseClientAuthentication(basic('c1', 'secret'), { client_id: 'c1' })).toEqual({
        method: 'client_secret_basic',
        clientId: 'c1',
        clientSecret: 'secret',
      });
    });

    it('compares the body client_id with the decoded Basic id', () => {
      expect(parseClientAuthentication(basic('c 1', 'secret'), { client_id: 'c 1' })?.clientId).toBe('c 1');
      expectInvalidRequest(() => parseClientAuthentication(basic('c 1', 'secret'), { client_id: 'c+1' }));
    });
  });

  describe('malformed Authorization headers (checklist CAUTH-12, decision 8)', () => {
    it.each([
      ['Basic with no credentials', 'Basic'],
      ['Basic and a space', 'Basic '],
      ['non-base64 characters', 'Basic !!!'],
      ['no colon', 'Basic Zm9v'],
      ['two spaces', `Basic  ${Buffer.from('a:b').toString('base64')}`],
      ['padding in the middle', 'Basic YTo=Yg=='],
      ['an empty client id', rawBasic(':secret')],
      ['an empty password (CAUTH-11)', rawBasic('s1:')],
      ['only a colon', rawBasic(':')],
      ['base64 of non-UTF-8 bytes', rawBasic(Buffer.from([0x73, 0x31, 0xff, 0x3a, 0x73, 0x65, 0x63]))],
      ['base64 of an overlong UTF-8 colon', rawBasic(Buffer.from([0x73, 0x31, 0xc0, 0xba, 0x73]))],
      ['a 10 KB header of A', `Basic ${'A'.repeat(10 * 1024)}`],
      ['a 10 KB header of !', `Basic ${'!'.repeat(10 * 1024)}`],
    ])('%s is 401 invalid_client with WWW-Authenticate: Basic', (_name, header) => {
      expectBasicChallenge(() => parseClientAuthentication(header, {}));
    });

    it('never throws anything but an OAuthError, whatever the header', () => {
      const headers = [
        'Basic \u0000',
        'Basic \ud800',
        `Basic ${'='.repeat(50)}`,
        'Basic Og==',
        'Basic =',
        'Basic\tYTpi',
      ];
      for (const header of headers) expectBasicChallenge(() => parseClientAuthentication(header, {}));
    });
  });

  describe('other schemes (checklist CAUTH-13)', () => {
    it.each([
      'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln',
      'Digest username="s1"',
      'Negotiate YIIC',
      'Basicx YTpi',
      'YTpi',
    ])('%s is 401 invalid_client with the Basic challenge, never a success', (header) => {
      expectBasicChallenge(() => parseClientAuthentication(header, { client_id: 's1', client_secret: 'x' }));
    });
  });

  describe('only one authentication method per request (RFC 6749 §2.3; checklist CAUTH-08, CAUTH-09)', () => {
    it('Basic plus client_id and client_secret in the body is invalid_request (CAUTH-08)', () => {
      expectInvalidRequest(() =>
        parseClientAuthentication(basic('c1', 'secret'), { client_id: 'c1', client_secret: 'secret' }),
      );
    });

    it('Basic plus client_secret alone in the body is invalid_request', () => {
      expectInvalidRequest(() =>
        parseClientAuthentication(basic('c1', 'secret'), { client_secret: 'secret' }),
      );
    });

    it('Basic C1 plus body client_id=C2 is invalid_request (CAUTH-09)', () => {
      const err = refusal(() => parseClientAuthentication(basic('c1', 'secret'), { client_id: 'c2' }));
      expect({ error: err.error, status: err.status, description: err.description }).toEqual({
        error: 'invalid_request',
        status: 400,
        description: 'client_id does not match the authenticated client',
      });
    });
  });

  describe('client_secret_post', () => {
    it('reads client_id and client_secret from the body', () => {
      expect(parseClientAuthentication(undefined, { client_id: 'c2', client_secret: 's' })).toEqual({
        method: 'client_secret_post',
        clientId: 'c2',
        clientSecret: 's',
      });
    });

    it('treats an empty Authorization header as absent', () => {
      expect(parseClientAuthentication('', { client_id: 'c2', client_secret: 's' })?.method).toBe(
        'client_secret_post',
      );
    });

    it('client_secret without client_id is invalid_request', () => {
      expectInvalidRequest(() => parseClientAuthentication(undefined, { client_secret: 's' }));
    });
  });

  describe('public clients (RFC 7591 §2, token_endpoint_auth_method none)', () => {
    it('client_id alone is the method none, with no secret', () => {
      const presented = parseClientAuthentication(undefined, { client_id: 'p1' });
      expect(presented).toEqual({ method: 'none', clientId: 'p1' });
      expect(presented && 'clientSecret' in presented).toBe(false);
    });

    it('no identification at all is null: the caller decides (CAUTH-07)', () => {
      expect(parseClientAuthentication(undefined, {})).toBeNull();
      expect(parseClientAuthentication(undefined, { grant_type: 'client_credentials' })).toBeNull();
    });
  });

  describe('private_key_jwt (RFC 7523 §2.2, RFC 7521 §4.2)', () => {
    const TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    const jwt = (claims: Record<string, unknown>) =>
      `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

    it('reads the assertion and takes the client from its sub when client_id is absent', () => {
      const assertion = jwt({ sub: 'pk', iss: 'pk' });
      expect(
        parseClientAuthentication(undefined, { client_assertion_type: TYPE, client_assertion: assertion }),
      ).toEqual({ method: 'private_key_jwt', clientId: 'pk', clientAssertion: assertion });
    });

    it('a sub escaping a lone surrogate names no client: invalid_client (RFC 7493 §2.1)', () => {
      const assertion = `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('{"sub":"\\ud800"}').toString('base64url')}.c2ln`;
      expect(() =>
        parseClientAuthentication(undefined, { client_assertion_type: TYPE, client_assertion: assertion }),
      ).toThrow(expect.objectContaining({ error: 'invalid_client' }));
    });

    it('prefers the body client_id (the registry then checks sub against it)', () => {
      const assertion = jwt({ sub: 'other' });
      expect(
        parseClientAuthentication(undefined, {
          client_id: 'pk',
          client_assertion_type: TYPE,
          client_assertion: assertion,
        })?.clientId,
      ).toBe('pk');
    });

    it('an assertion with Basic or a client_secret is invalid_request (one method only)', () => {
      const params = { client_assertion_type: TYPE, client_assertion: jwt({ sub: 'pk' }) };
      expectInvalidRequest(() => parseClientAuthentication(basic('pk', 's'), params));
      expectInvalidRequest(() => parseClientAuthentication(undefined, { ...params, client_secret: 's' }));
    });

    it('another assertion type is invalid_client (CAUTH-17)', () => {
      const err = refusal(() =>
        parseClientAuthentication(undefined, {
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
          client_assertion: 'x',
        }),
      );
      expect([err.error, err.status]).toEqual(['invalid_client', 401]);
    });

    it('an unreadable assertion with no client_id is invalid_client', () => {
      const err = refusal(() =>
        parseClientAuthentication(undefined, { client_assertion_type: TYPE, client_assertion: 'garbage' }),
      );
      expect(err.error).toBe('invalid_client');
    });
  });
});
