import type { ClientView } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import { clientCredentialsGrant } from './client-credentials.grant.js';
import type { GrantContext, GrantIssue } from './grant-handler.js';

const ISSUER = 'https://as.test';
const handler = clientCredentialsGrant({
  issuer: ISSUER,
  adminAudience: `${ISSUER}/admin`,
  accessTokenTtlSeconds: 600,
  accessTokenMaxTtlSeconds: 3600,
});
const now = new Date('2030-01-01T00:00:00.000Z');

/** Fixture S1 (checklist §0.2): confidential, grants [client_credentials], scope read. */
const s1: ClientView = {
  clientId: 's1',
  clientName: 'S1',
  status: 'active',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['client_credentials'],
  scope: ['read', 'write'],
  defaultScope: ['read'],
  audience: ['https://api.test'],
};

/** Fixture C1: confidential, grants [authorization_code, refresh_token]. */
const c1: ClientView = { ...s1, clientId: 'c1', grantTypes: ['authorization_code', 'refresh_token'] };

const context = (
  client: ClientView,
  parameters: Record<string, string> = {},
  resources: string[] = [],
): GrantContext => ({
  client,
  parameters: { grant_type: 'client_credentials', ...parameters },
  resources,
  now,
  jti: 'jti-1',
  kid: 'k1',
  grants: {
    load: () => {
      throw new Error('client credentials reads no grant stream');
    },
    isOfFamily: () => {
      throw new Error('client credentials reads no grant stream');
    },
  },
  newGrantToken: () => {
    throw new Error('client credentials mints no refresh token');
  },
});

async function decide(
  client: ClientView,
  parameters: Record<string, string> = {},
  resources: string[] = [],
): Promise<GrantIssue> {
  return handler.handle(context(client, parameters, resources));
}

async function refusal(client: ClientView, parameters: Record<string, string> = {}): Promise<OAuthError> {
  try {
    await decide(client, parameters);
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
  throw new Error('expected the grant to be refused');
}

describe('client credentials grant (RFC 6749 §4.4; checklist CC)', () => {
  it('is registered under client_credentials and reads only scope', () => {
    expect(handler.grantType).toBe('client_credentials');
    expect(handler.parameters).toEqual(['scope', 'resource']);
  });

  it('issues the requested scope (CC-01)', async () => {
    const { issue } = await decide(s1, { scope: 'read' });
    expect(issue).toEqual({
      type: 'IssueAccessToken',
      jti: 'jti-1',
      clientId: 's1',
      sub: 's1',
      aud: ['https://api.test'],
      scope: ['read'],
      grantType: 'client_credentials',
      now,
      ttlSeconds: 600,
      kid: 'k1',
    });
  });

  it('sub is the client itself and client_id is the client (CC-07, RFC 9068 §2.2)', async () => {
    const { issue } = await decide(s1, { scope: 'read' });
    expect({ sub: issue.sub, clientId: issue.clientId }).toEqual({ sub: 's1', clientId: 's1' });
  });

  it('a client not registered for the grant gets unauthorized_client (CC-04, TREQ-10)', async () => {
    const err = await refusal(c1, { scope: 'read' });
    expect({ error: err.error, status: err.status }).toEqual({ error: 'unauthorized_client', status: 400 });
  });

  it('checks the grant before the scope: unauthorized_client even with a bad scope', async () => {
    expect((await refusal(c1, { scope: 'admin' })).error).toBe('unauthorized_client');
  });

  it('a public client without the grant gets unauthorized_client (CC-03, decision 9)', async () => {
    const p1: ClientView = {
      ...s1,
      clientId: 'p1',
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code'],
    };
    const err = await refusal(p1, { scope: 'read' });
    expect({ error: err.error, status: err.status }).toEqual({ error: 'unauthorized_client', status: 400 });
  });

  it('a public client is refused even when its metadata lists the grant (RFC 6749 §4.4: confidential only)', async () => {
    const p1: ClientView = { ...s1, clientId: 'p1', tokenEndpointAuthMethod: 'none' };
    const err = await refusal(p1, { scope: 'read' });
    expect({ error: err.error, status: err.status }).toEqual({ error: 'unauthorized_client', status: 400 });
  });

  it.each([
    ['a scope no client may use', 'admin'],
    ['an unknown scope next to an allowed one', 'read admin'],
    ['a malformed scope', 'read  write'],
  ])('%s is invalid_scope (CC-05)', async (_name, scope) => {
    const err = await refusal(s1, { scope });
    expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_scope', status: 400 });
  });

  it('an omitted scope gets the default scope (CC-08, decision 6)', async () => {
    expect((await decide(s1)).issue.scope).toEqual(['read']);
  });

  it('an empty scope is treated as omitted (TREQ-12)', async () => {
    expect((await decide(s1, { scope: '' })).issue.scope).toEqual(['read']);
  });

  it('an omitted scope with no default is invalid_scope (decision 6)', async () => {
    const err = await refusal({ ...s1, defaultScope: [] });
    expect(err.error).toBe('invalid_scope');
  });

  it('grants several scopes in any order', async () => {
    expect(new Set((await decide(s1, { scope: 'write read' })).issue.scope)).toEqual(
      new Set(['read', 'write']),
    );
  });

  it('the audience defaults to the issuer when the client has none', async () => {
    expect((await decide({ ...s1, audience: [] })).issue.aud).toEqual([ISSUER]);
  });

  it('keeps every audience of the client', async () => {
    const aud = ['https://api.test', 'https://other.test'];
    expect((await decide({ ...s1, audience: aud })).issue.aud).toEqual(aud);
  });

  it('takes the client lifetime over the default', async () => {
    expect((await decide({ ...s1, accessTokenTtlSeconds: 60 })).issue.ttlSeconds).toBe(60);
    expect((await decide({ ...s1, accessTokenTtlSeconds: 1800 })).issue.ttlSeconds).toBe(1800);
    expect((await decide(s1)).issue.ttlSeconds).toBe(600);
  });

  it("never goes past the server's cap, whatever the client's metadata says (RFC 7591 §2)", async () => {
    expect((await decide({ ...s1, accessTokenTtlSeconds: 86400 })).issue.ttlSeconds).toBe(3600);
  });

  it('ignores parameters it does not read (TREQ-13)', async () => {
    const { issue } = await decide(s1, { scope: 'read', foo: 'bar', username: 'alice', sub: 'alice' });
    expect({ sub: issue.sub, scope: issue.scope }).toEqual({ sub: 's1', scope: ['read'] });
  });

  describe('resource indicators (RFC 8707 §2)', () => {
    const multi: ClientView = { ...s1, audience: ['https://api.test', 'https://other.test'] };

    it('the audience is the requested resource, one of the client audiences', async () => {
      expect((await decide(multi, { scope: 'read' }, ['https://other.test'])).issue.aud).toEqual([
        'https://other.test',
      ]);
    });

    it('several resources give several audiences', async () => {
      const aud = ['https://other.test', 'https://api.test'];
      expect((await decide(multi, { scope: 'read' }, aud)).issue.aud).toEqual(aud);
    });

    it.each([
      ['not among the client audiences', 'https://evil.test'],
      ['a relative URI', '/api'],
      ['a URI with a fragment', 'https://api.test#x'],
    ])('a resource %s is invalid_target', async (_name, resource) => {
      try {
        await decide(multi, { scope: 'read' }, [resource]);
      } catch (err) {
        expect({ error: (err as OAuthError).error, status: (err as OAuthError).status }).toEqual({
          error: 'invalid_target',
          status: 400,
        });
        return;
      }
      throw new Error('expected invalid_target');
    });

    it('a client with no audience list may name no resource', async () => {
      await expect(decide({ ...s1, audience: [] }, {}, ['https://as.test'])).rejects.toMatchObject({
        error: 'invalid_target',
      });
    });
  });

  it('issues no refresh token (CC-02, RFC 6749 §4.4.3)', async () => {
    expect(Object.keys(await decide(s1))).toEqual(['issue']);
  });
});
