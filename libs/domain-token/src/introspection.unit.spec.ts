import type { ClientView } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import {
  checkRevocationAllowed,
  type IntrospectedToken,
  introspectionResponse,
  requireConfidentialCaller,
} from './introspection.js';

const ISSUER = 'https://as.test';
const IAT = 1_893_456_000;
const EXP = IAT + 600;

const client = (clientId: string, overrides: Partial<ClientView> = {}): ClientView => ({
  clientId,
  clientName: clientId,
  status: 'active',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['client_credentials'],
  scope: ['read'],
  defaultScope: [],
  audience: [],
  ...overrides,
});

const s1 = client('s1');
const c2 = client('c2', { tokenEndpointAuthMethod: 'client_secret_post' });
/** R1: the resource server the tokens are meant for. */
const r1 = client('https://api.test');
const p1 = client('p1', { tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'] });
const p2 = client('p2', { tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'] });

const row = (overrides: Partial<IntrospectedToken> = {}): IntrospectedToken => ({
  jti: 'jti-1',
  clientId: 's1',
  sub: 's1',
  aud: ['https://api.test'],
  scope: ['read', 'write'],
  grantType: 'client_credentials',
  iat: IAT,
  exp: EXP,
  status: 'active',
  issuedAtPosition: 7,
  ...overrides,
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

/** INACTIVE (checklist §0.3): exactly {"active":false}, no other member. */
function expectInactive(response: unknown) {
  expect(JSON.stringify(response)).toBe('{"active":false}');
}

describe('token introspection (RFC 7662 §2.2; checklist INT, decision 11)', () => {
  it('answers the owning client with the token metadata (INT-03)', () => {
    expect(introspectionResponse(row(), s1, IAT + 1, ISSUER)).toEqual({
      active: true,
      scope: 'read write',
      client_id: 's1',
      token_type: 'Bearer',
      exp: EXP,
      iat: IAT,
      nbf: IAT,
      sub: 's1',
      aud: 'https://api.test',
      iss: ISSUER,
      jti: 'jti-1',
    });
  });

  it('answers a client named in the audience (INT-03, decision 11)', () => {
    const response = introspectionResponse(row(), r1, IAT + 1, ISSUER);
    expect(response).toMatchObject({ active: true, client_id: 's1', aud: 'https://api.test' });
  });

  it('keeps aud as an array when there are several audiences', () => {
    const response = introspectionResponse(
      row({ aud: ['https://api.test', 'https://b.test'] }),
      s1,
      IAT,
      ISSUER,
    );
    expect(response).toMatchObject({ active: true, aud: ['https://api.test', 'https://b.test'] });
  });

  it('names the resource owner (username) for a token of a user grant, and none for client credentials', () => {
    const user = row({ sub: 'u-1', username: 'alice', grantId: 'g', grantType: 'authorization_code' });
    expect(introspectionResponse(user, s1, IAT + 1, ISSUER)).toMatchObject({
      active: true,
      sub: 'u-1',
      username: 'alice',
    });
    expect(JSON.parse(JSON.stringify(introspectionResponse(row(), s1, IAT + 1, ISSUER)))).not.toHaveProperty(
      'username',
    );
  });

  it('omits scope when the token has none', () => {
    const response = introspectionResponse(row({ scope: [] }), s1, IAT, ISSUER);
    expect(response.active).toBe(true);
    expect(JSON.parse(JSON.stringify(response))).not.toHaveProperty('scope');
  });

  it('unknown token: exactly {"active":false} (INT-05)', () => {
    expectInactive(introspectionResponse(null, s1, IAT, ISSUER));
  });

  it('revoked token: exactly {"active":false} (INT-07)', () => {
    expectInactive(
      introspectionResponse(
        row({ status: 'revoked', revokedAt: '2030-01-01T00:05:00.000Z' }),
        s1,
        IAT + 1,
        ISSUER,
      ),
    );
  });

  it('expired token: exactly {"active":false}, from the second of exp on (INT-06)', () => {
    expect(introspectionResponse(row(), s1, EXP - 1, ISSUER).active).toBe(true);
    expectInactive(introspectionResponse(row(), s1, EXP, ISSUER));
    expectInactive(introspectionResponse(row(), s1, EXP + 3600, ISSUER));
  });

  it('another client\'s token it is not an audience of: exactly {"active":false}, not 403 (INT-10)', () => {
    expectInactive(introspectionResponse(row(), c2, IAT + 1, ISSUER));
  });

  it('does not leak whether an invisible token is revoked or expired', () => {
    const invisible = [
      introspectionResponse(row(), c2, IAT + 1, ISSUER),
      introspectionResponse(row({ status: 'revoked' }), c2, IAT + 1, ISSUER),
      introspectionResponse(row(), c2, EXP + 1, ISSUER),
      introspectionResponse(null, c2, IAT + 1, ISSUER),
    ];
    for (const r of invisible) expectInactive(r);
  });

  it('visibility compares client ids exactly', () => {
    expectInactive(introspectionResponse(row(), client('S1'), IAT + 1, ISSUER));
    expectInactive(introspectionResponse(row(), client('https://api.test/'), IAT + 1, ISSUER));
  });
});

describe('introspection callers (RFC 7662 §2.1; checklist INT-11, decision 11)', () => {
  it('a public caller is 401 invalid_client', () => {
    const err = refusal(() => requireConfidentialCaller(p1));
    expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_client', status: 401 });
  });

  it.each([
    ['client_secret_basic', s1],
    ['client_secret_post', c2],
  ])('a confidential %s caller may introspect', (_method, caller) => {
    expect(() => requireConfidentialCaller(caller)).not.toThrow();
  });
});

describe('token revocation permission (RFC 7009 §2.1; checklist REV-07, REV-08, decision 10)', () => {
  it('a confidential client revokes its own token', () => {
    expect(checkRevocationAllowed('s1', s1)).toBe('revoke');
  });

  it("another confidential client's token is 400 invalid_request (REV-07)", () => {
    const err = refusal(() => checkRevocationAllowed('s1', c2));
    expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_request', status: 400 });
  });

  it('an audience resource server may not revoke a token issued to another client', () => {
    expect(refusal(() => checkRevocationAllowed('s1', r1)).error).toBe('invalid_request');
  });

  it('a public client revokes its own token (REV-08)', () => {
    expect(checkRevocationAllowed('p1', p1)).toBe('revoke');
  });

  it("a public client's attempt on another client's token is silently ignored (REV-08)", () => {
    expect(checkRevocationAllowed('p1', p2)).toBe('ignore');
    expect(checkRevocationAllowed('s1', p2)).toBe('ignore');
  });

  it('compares client ids exactly', () => {
    expect(refusal(() => checkRevocationAllowed('s1', client('S1'))).error).toBe('invalid_request');
  });
});
