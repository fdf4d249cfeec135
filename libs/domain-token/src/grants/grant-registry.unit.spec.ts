import { OAuthError } from '#lib/oauth-errors';
import { clientCredentialsGrant } from './client-credentials.grant.js';
import type { GrantHandler } from './grant-handler.js';
import { GrantRegistry } from './grant-registry.js';

const clientCredentials = clientCredentialsGrant({
  issuer: 'https://as.test',
  adminAudience: 'https://as.test/admin',
  accessTokenTtlSeconds: 600,
  accessTokenMaxTtlSeconds: 600,
});
const fakeGrant = (grantType: string): GrantHandler => ({
  grantType,
  parameters: [],
  handle: () => {
    throw new Error('not called');
  },
});

function refusal(run: () => unknown): OAuthError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
  throw new Error('expected an OAuthError, but nothing was thrown');
}

describe('grant types at the token endpoint (RFC 6749 §5.2; checklist TREQ-07 to TREQ-09)', () => {
  const registry = new GrantRegistry([clientCredentials]);

  it('resolves a registered grant to its handler', () => {
    expect(registry.resolve('client_credentials')).toBe(clientCredentials);
  });

  it('lists the registered grant types', () => {
    expect(registry.grantTypes).toEqual(['client_credentials']);
    expect(new GrantRegistry().grantTypes).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['empty, which counts as omitted (RFC 6749 §3.2)', ''],
  ])('a grant_type that is %s is invalid_request (TREQ-07)', (_name, grantType) => {
    const err = refusal(() => registry.resolve(grantType));
    expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_request', status: 400 });
  });

  it.each([
    'password',
    'implicit',
    'token',
    'foo',
    'urn:ietf:params:oauth:grant-type:jwt-bearer',
    'Authorization_Code',
    'authorization_code',
    'CLIENT_CREDENTIALS',
    'client_credentials ',
    '__proto__',
    'constructor',
    'toString',
  ])('%p is unsupported_grant_type (TREQ-08, TREQ-09)', (grantType) => {
    const err = refusal(() => registry.resolve(grantType));
    expect({ error: err.error, status: err.status }).toEqual({
      error: 'unsupported_grant_type',
      status: 400,
    });
  });

  it.each(['password', 'implicit'])(
    'refuses to register %s (OAuth 2.1 §10.1, RFC 9700 §2.4)',
    (grantType) => {
      const r = new GrantRegistry();
      expect(() => r.register(fakeGrant(grantType))).toThrow(`${grantType} is not allowed`);
      expect(r.grantTypes).toEqual([]);
      expect(() => new GrantRegistry([fakeGrant(grantType)])).toThrow(`${grantType} is not allowed`);
    },
  );

  it('refuses to register one grant type twice', () => {
    const r = new GrantRegistry([clientCredentials]);
    expect(() => r.register(fakeGrant('client_credentials'))).toThrow('registered twice');
    expect(r.resolve('client_credentials')).toBe(clientCredentials);
  });

  it('accepts a further grant through the same contract', () => {
    const custom = fakeGrant('urn:example:custom');
    const r = new GrantRegistry([clientCredentials, custom]);
    expect(r.resolve('urn:example:custom')).toBe(custom);
    expect(r.grantTypes).toEqual(['client_credentials', 'urn:example:custom']);
  });
});
