import type { ClientView } from '#lib/contracts';
import {
  authorizationResponseUrl,
  checkAuthorizationRequest,
  checkClientId,
  checkResponseTarget,
  type Params,
} from './check-authorization-request.js';

const CH = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const client = (over: Partial<ClientView> = {}): ClientView => ({
  clientId: 'c1',
  clientName: 'C1',
  status: 'active',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['authorization_code', 'refresh_token'],
  scope: ['read', 'write'],
  defaultScope: ['read'],
  audience: ['https://a.test/', 'https://b.test/'],
  redirectUris: ['https://c1.test/cb'],
  ...over,
});

function params(query: Record<string, string | string[]>): Params {
  return new Map(Object.entries(query).map(([k, v]) => [k, [v].flat()]));
}

const good = {
  response_type: 'code',
  client_id: 'c1',
  redirect_uri: 'https://c1.test/cb',
  scope: 'read',
  state: 'xyz',
  code_challenge: CH,
  code_challenge_method: 'S256',
};

function check(query: Record<string, string | string[]>, c: ClientView = client()) {
  const p = params(query);
  const target = checkResponseTarget(p, c);
  if (target.status !== 'ok') throw new Error(target.description);
  return checkAuthorizationRequest(p, c, target.target);
}

const errorOf = (r: ReturnType<typeof check>) => ('error' in r ? r.error.error : null);

describe('checkClientId / checkResponseTarget (RFC 6749 §4.1.2.1: never redirect to an unverified URI)', () => {
  it('AUTHZ-03 / AUTHZ-04: client_id missing, empty or repeated is rejected', () => {
    expect(checkClientId(params({})).status).toBe('rejected');
    expect(checkClientId(params({ client_id: '' })).status).toBe('rejected');
    expect(checkClientId(params({ client_id: ['c1', 'c1'] })).status).toBe('rejected');
    expect(checkClientId(params({ client_id: 'c1' }))).toEqual({ status: 'client-needed', clientId: 'c1' });
  });

  it('AUTHZ-02: an unknown or disabled client is rejected', () => {
    expect(checkResponseTarget(params(good), null).status).toBe('rejected');
    expect(checkResponseTarget(params(good), client({ status: 'disabled' })).status).toBe('rejected');
  });

  it('AUTHZ-05 / AUTHZ-06 / AUTHZ-13: exact match only; repeated is rejected', () => {
    for (const uri of [
      'https://c1.test/cb/',
      'https://C1.test/cb',
      'https://c1.test/cb?x=1',
      'https://c1.test:443/cb',
    ])
      expect(checkResponseTarget(params({ ...good, redirect_uri: uri }), client()).status).toBe('rejected');
    expect(
      checkResponseTarget(
        params({ ...good, redirect_uri: ['https://c1.test/cb', 'https://c1.test/cb'] }),
        client(),
      ).status,
    ).toBe('rejected');
  });

  it('AUTHZ-08 / AUTHZ-09: omitted redirect_uri: the only registered one, else rejected', () => {
    const { redirect_uri: _omit, ...rest } = good;
    void _omit;
    expect(checkResponseTarget(params(rest), client())).toEqual({
      status: 'ok',
      target: { clientId: 'c1', redirectUri: null, deliveredTo: 'https://c1.test/cb', state: 'xyz' },
    });
    expect(
      checkResponseTarget(
        params(rest),
        client({ redirectUris: ['https://c1.test/cb', 'https://c1.test/cb2'] }),
      ).status,
    ).toBe('rejected');
  });

  it('AUTHZ-11: a loopback IP literal may change its port, the response goes to the port sent', () => {
    const n1 = client({ redirectUris: ['http://127.0.0.1/cb'], tokenEndpointAuthMethod: 'none' });
    const r = checkResponseTarget(params({ ...good, redirect_uri: 'http://127.0.0.1:51004/cb' }), n1);
    expect(r).toMatchObject({ status: 'ok', target: { deliveredTo: 'http://127.0.0.1:51004/cb' } });
    expect(
      checkResponseTarget(params({ ...good, redirect_uri: 'http://localhost:51004/cb' }), n1).status,
    ).toBe('rejected');
  });

  it('AUTHZ-32 / AUTHZ-34 / AUTHZ-43: a repeated, empty or oversized state is not echoed', () => {
    const stateOf = (state: string | string[]) => {
      const r = checkResponseTarget(params({ ...good, state }), client());
      return r.status === 'ok' ? r.target.state : 'rejected';
    };
    expect(stateOf(['a', 'b'])).toBeUndefined();
    expect(stateOf('')).toBeUndefined();
    expect(stateOf('x'.repeat(5000))).toBeUndefined();
    expect(stateOf('x'.repeat(2000))).toBe('x'.repeat(2000));
  });
});

describe('checkAuthorizationRequest (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, RFC 7636 §4.4.1)', () => {
  it('AUTHZ-01: a valid request', () => {
    expect(check(good)).toEqual({
      request: {
        clientId: 'c1',
        redirectUri: 'https://c1.test/cb',
        deliveredTo: 'https://c1.test/cb',
        state: 'xyz',
        scope: ['read'],
        codeChallenge: CH,
        resource: [],
      },
    });
  });

  it('AUTHZ-20 / AUTHZ-21 / AUTHZ-22: response_type', () => {
    const { response_type: _omit, ...rest } = good;
    void _omit;
    expect(errorOf(check(rest))).toBe('invalid_request');
    for (const rt of ['token', 'code token', 'id_token', 'none', 'CODE'])
      expect(errorOf(check({ ...good, response_type: rt }))).toBe('unsupported_response_type');
  });

  it('AUTHZ-28: a client without the code grant is unauthorized_client', () => {
    expect(errorOf(check(good, client({ grantTypes: ['client_credentials'] })))).toBe('unauthorized_client');
  });

  it('AUTHZ-31: any repeated parameter is invalid_request, except resource (RFC 8707)', () => {
    for (const name of ['scope', 'response_type', 'code_challenge', 'state', 'foo'])
      expect(errorOf(check({ ...good, [name]: ['a', 'b'] }))).toBe('invalid_request');
    expect(check({ ...good, resource: ['https://a.test/', 'https://b.test/'] })).toMatchObject({
      request: { resource: ['https://a.test/', 'https://b.test/'] },
    });
    expect(errorOf(check({ ...good, resource: 'not a uri' }))).toBe('invalid_target');
    expect(errorOf(check({ ...good, resource: 'https://a.test/#f' }))).toBe('invalid_target');
  });

  it("RFC 8707 §2: a resource outside the client's registered audience is invalid_target", () => {
    expect(errorOf(check({ ...good, resource: 'https://elsewhere.test/' }))).toBe('invalid_target');
    expect(errorOf(check({ ...good, resource: 'https://a.test/' }, client({ audience: [] })))).toBe(
      'invalid_target',
    );
  });

  it('AUTHZ-23 / AUTHZ-24 / AUTHZ-25 / AUTHZ-26 / AUTHZ-27: scope (decision 6)', () => {
    for (const scope of ['read nope', 'admin', 'read"', 'read\\'])
      expect(errorOf(check({ ...good, scope }))).toBe('invalid_scope');
    const { scope: _omit, ...rest } = good;
    void _omit;
    expect(check(rest)).toMatchObject({ request: { scope: ['read'] } });
    expect(errorOf(check(rest, client({ defaultScope: [] })))).toBe('invalid_scope');
    expect(check({ ...good, scope: 'write read' })).toMatchObject({ request: { scope: ['write', 'read'] } });
  });

  it('a scope of thousands of values is invalid_scope, whatever the client holds (issue 20)', () => {
    const repeated = Array.from({ length: 5000 }, () => 'read').join(' ');
    expect(errorOf(check({ ...good, scope: repeated }))).toBe('invalid_scope');
    const many = Array.from({ length: 16000 }, (_, i) => `s${i}`);
    expect(errorOf(check({ ...good, scope: many.join(' ') }, client({ scope: many })))).toBe('invalid_scope');
  });

  it('PKCE-A02 / PKCE-A03 / PKCE-A04..A08: S256 required (decision 1); a confidential client may opt out', () => {
    const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = good;
    void _c;
    void _m;
    expect(errorOf(check(noPkce))).toBe('invalid_request');
    expect(errorOf(check(noPkce, client({ tokenEndpointAuthMethod: 'none', requirePkce: false })))).toBe(
      'invalid_request',
    );
    expect(check(noPkce, client({ requirePkce: false }))).toMatchObject({ request: { codeChallenge: null } });
    for (const method of ['plain', 's256', 'SHA256', 'S512'])
      expect(errorOf(check({ ...good, code_challenge_method: method }))).toBe('invalid_request');
    const { code_challenge_method: _m2, ...noMethod } = good;
    void _m2;
    expect(errorOf(check(noMethod))).toBe('invalid_request');
    for (const bad of ['a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}=`])
      expect(errorOf(check({ ...good, code_challenge: bad }))).toBe('invalid_request');
  });
});

describe('authorizationResponseUrl (RFC 6749 §4.1.2, RFC 9207 §2)', () => {
  const target = {
    clientId: 'c4',
    redirectUri: null,
    deliveredTo: 'https://c4.test/cb?tenant=a',
    state: 'a b+c&d=e/%25€',
  };

  it('AUTHZ-07 / AUTHZ-40 / AUTHZ-44: keeps the registered query, echoes state exactly, adds iss', () => {
    const url = new URL(authorizationResponseUrl(target, 'https://as.test', { code: 'abc' }));
    expect(url.origin + url.pathname).toBe('https://c4.test/cb');
    expect([...url.searchParams]).toEqual([
      ['tenant', 'a'],
      ['code', 'abc'],
      ['state', target.state],
      ['iss', 'https://as.test'],
    ]);
  });

  it('AUTHZ-36: error_description holds only %x20-21 / %x23-5B / %x5D-7E', () => {
    const url = new URL(
      authorizationResponseUrl({ ...target, state: undefined }, 'https://as.test', {
        error: 'invalid_scope',
        description: 'bad "scope" \\ € \r\n',
      }),
    );
    expect(url.searchParams.get('error')).toBe('invalid_scope');
    expect(url.searchParams.get('error_description')).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
    expect(url.searchParams.has('state')).toBe(false);
    expect(url.searchParams.has('code')).toBe(false);
  });
});

describe('nonce (OpenID Connect Core §3.1.2.1)', () => {
  const nonceOf = (r: ReturnType<typeof check>) => ('request' in r ? r.request.nonce : r.error.error);

  it('is kept exactly as sent, and absent when not sent or empty', () => {
    expect(nonceOf(check({ ...good, scope: 'read', nonce: ' n-0 ü+/=' }))).toBe(' n-0 ü+/=');
    expect(nonceOf(check(good))).toBeUndefined();
    expect(nonceOf(check({ ...good, nonce: '' }))).toBeUndefined();
  });

  it('repeated or oversized is invalid_request', () => {
    expect(nonceOf(check({ ...good, nonce: ['a', 'b'] }))).toBe('invalid_request');
    expect(nonceOf(check({ ...good, nonce: 'n'.repeat(2049) }))).toBe('invalid_request');
    expect(nonceOf(check({ ...good, nonce: 'n'.repeat(2048) }))).toBe('n'.repeat(2048));
  });
});
