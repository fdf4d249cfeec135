import { Keyset } from '#lib/keysets';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { PresentedClientCredentials } from '#lib/contracts';
import { deciderSpecification, stateAfter } from '../../testing/src/decider-specification.js';
import { parseOutboundAllowList } from '#lib/outbound-guard';
import {
  clientAssertionAudiences,
  localKeySet,
  verifyClientAssertion,
  clientAssertionStreamId,
} from './client-assertion.js';
import {
  authenticateClient,
  clientForAssertion,
  registrationAccessTokenMatches,
} from './client-authentication.js';
import { eventsOrThrow } from '#lib/decider';
import { clientView, initialClientState, type ClientState } from './client-state.js';
import { CLIENT_UPCASTERS } from './client-events.js';
import {
  clientDecider,
  decideClient as decideClientDecision,
  type ClientCommand,
  type RegisterClient,
} from './client.js';
import { hashSecret } from './secret.js';
import { FailureThrottle } from './throttle.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideClient = (...args: Parameters<typeof decideClientDecision>) =>
  eventsOrThrow(decideClientDecision(...args));

const decider = { ...clientDecider, upcasters: CLIENT_UPCASTERS };
const spec = deciderSpecification<ClientCommand, ClientState>(decider);
const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 9) }]);
const now = new Date('2030-01-01T00:00:00.000Z');
const SECRET = 'secret-one';

const register = (overrides: Partial<RegisterClient> = {}): RegisterClient => ({
  type: 'RegisterClient',
  origin: { kind: 'administrator', privilegedScopes: ['admin'] },
  clientId: 'c1',
  clientName: 'C1',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['authorization_code', 'refresh_token'],
  redirectUris: ['https://c1.test/cb'],
  scope: ['read', 'write'],
  defaultScope: [],
  audience: [],
  secretHash: hashSecret(SECRET, keys),
  registrationAccessTokenHash: hashSecret('rat', keys),
  now,
  ...overrides,
});

const eventsOf = (command: RegisterClient) => decideClient(command, initialClientState());

describe('RFC 7591 §2 client metadata (checklist REG-03 to REG-10, decision 1, decision 5)', () => {
  it('fills the defaults: response type code, PKCE required, no reuse grace', () => {
    const [event] = eventsOf(register());
    expect(event!.data).toMatchObject({
      responseTypes: ['code'],
      requirePkce: true,
      refreshTokenReuseGraceSeconds: 0,
      redirectUris: ['https://c1.test/cb'],
      registrationAccessTokenHash: hashSecret('rat', keys),
    });
    expect(JSON.stringify(event)).not.toContain('"rat"');
  });

  it('keeps every redirect URI byte for byte', () => {
    const uris = ['https://C1.test/Cb?x=%41', 'http://127.0.0.1:8080/cb'];
    const [event] = eventsOf(register({ redirectUris: uris }));
    expect((event!.data as { redirectUris: string[] }).redirectUris).toEqual(uris);
  });

  it.each([
    ['a fragment (REG-03)', { redirectUris: ['https://c1.test/cb#x'] }],
    ['http on a host (REG-05)', { redirectUris: ['http://c1.test/cb'] }],
    ['javascript: (REG-06)', { redirectUris: ['javascript:alert(1)'] }],
    ['userinfo (REG-09)', { redirectUris: ['https://u:p@c1.test/cb'] }],
    ['authorization_code with no redirect URI', { redirectUris: [] }],
    [
      '21 redirect URIs (REG-14)',
      { redirectUris: Array.from({ length: 21 }, (_, i) => `https://c.test/${i}`) },
    ],
  ] as Array<[string, Partial<RegisterClient>]>)('refuses %s', (_name, overrides) => {
    const expected = _name.startsWith('21') ? 'invalid_client_metadata' : 'invalid_redirect_uri';
    spec.given([]).when(register(overrides)).thenThrows({ error: expected, status: 400 });
  });

  it.each([
    ['response_types token (REG-10)', { responseTypes: ['token'] }],
    [
      'response_types code without the authorization_code grant',
      { grantTypes: ['client_credentials'], responseTypes: ['code'], redirectUris: [] },
    ],
    [
      'a public client turning PKCE off (decision 1)',
      { tokenEndpointAuthMethod: 'none', secretHash: null, requirePkce: false },
    ],
    ['a reuse grace window over 60 s (decision 5)', { refreshTokenReuseGraceSeconds: 61 }],
    ['a negative reuse grace window', { refreshTokenReuseGraceSeconds: -1 }],
    ['an access-token lifetime under 10 s', { accessTokenTtlSeconds: 5 }],
    ['a refresh-token lifetime over a year', { refreshTokenTtlSeconds: 366 * 86400 }],
    ['a non-http client_uri', { clientUri: 'javascript:alert(1)' }],
    ['a logo_uri with userinfo', { logoUri: 'https://u@c.test/logo.png' }],
    ['11 contacts', { contacts: Array.from({ length: 11 }, (_, i) => `a${i}@c.test`) }],
    ['101 scope values (issue 20)', { scope: Array.from({ length: 101 }, (_, i) => `s${i}`) }],
    ['16,000 scope values (issue 20)', { scope: Array.from({ length: 16000 }, (_, i) => `s${i}`) }],
    ['a scope value over 128 characters (issue 20)', { scope: ['read', 'x'.repeat(129)] }],
    [
      'private_key_jwt without keys (RFC 7523 §2.2)',
      { tokenEndpointAuthMethod: 'private_key_jwt', secretHash: null },
    ],
    [
      'both jwks and jwks_uri (RFC 7591 §2)',
      {
        tokenEndpointAuthMethod: 'private_key_jwt',
        secretHash: null,
        jwks: { keys: [{ kty: 'EC' }] },
        jwksUri: 'https://c.test/jwks',
      },
    ],
    [
      'a private key in jwks',
      {
        tokenEndpointAuthMethod: 'private_key_jwt',
        secretHash: null,
        jwks: { keys: [{ kty: 'EC', d: 'x' }] },
      },
    ],
    [
      'an http jwks_uri',
      { tokenEndpointAuthMethod: 'private_key_jwt', secretHash: null, jwksUri: 'http://c.test/jwks' },
    ],
    [
      'a jwks_uri at a loopback address (RFC 9700 §4.16)',
      {
        tokenEndpointAuthMethod: 'private_key_jwt',
        secretHash: null,
        jwksUri: 'https://127.0.0.1:9977/jwks',
      },
    ],
    [
      'a jwks_uri at the cloud metadata address',
      { tokenEndpointAuthMethod: 'private_key_jwt', secretHash: null, jwksUri: 'https://169.254.169.254/' },
    ],
    [
      'a jwks_uri at an RFC 1918 address',
      { tokenEndpointAuthMethod: 'private_key_jwt', secretHash: null, jwksUri: 'https://10.0.0.1/jwks' },
    ],
    [
      'a jwks_uri at an IPv4-mapped loopback address',
      {
        tokenEndpointAuthMethod: 'private_key_jwt',
        secretHash: null,
        jwksUri: 'https://[::ffff:7f00:1]/jwks',
      },
    ],
    [
      'a secret for a private_key_jwt client',
      { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'EC' }] } },
    ],
    ['an unknown auth method', { tokenEndpointAuthMethod: 'client_secret_jwt' as never }],
    [
      'refresh_token without authorization_code',
      { grantTypes: ['client_credentials', 'refresh_token'], redirectUris: [] },
    ],
  ] as Array<[string, Partial<RegisterClient>]>)(
    'refuses %s with invalid_client_metadata',
    (_name, overrides) => {
      spec.given([]).when(register(overrides)).thenThrows({ error: 'invalid_client_metadata', status: 400 });
    },
  );

  it('accepts 100 scope values of 128 characters; refuses more naming scope (issue 20)', () => {
    const scope = Array.from({ length: 100 }, (_, i) => `s${i}`.padEnd(128, 'x'));
    expect(eventsOf(register({ scope }))[0]!.data).toMatchObject({ scope });
    expect(() => eventsOf(register({ scope: [...scope, 'one-more'] }))).toThrow(
      /invalid_client_metadata: scope: at most 100 values$/,
    );
  });

  it('names jwks_uri when it refuses a special-purpose address', () => {
    expect(() =>
      eventsOf(
        register({
          tokenEndpointAuthMethod: 'private_key_jwt',
          secretHash: null,
          jwksUri: 'https://[::1]/k',
        }),
      ),
    ).toThrow(/jwks_uri must not name a special-purpose address \(loopback\)/);
  });

  it('leaves a jwks_uri host name to the fetch, and lets the operator allow an address', () => {
    const pk = { tokenEndpointAuthMethod: 'private_key_jwt' as const, secretHash: null };
    expect(eventsOf(register({ ...pk, jwksUri: 'https://localhost:8443/jwks' }))).toHaveLength(1);
    const rules = { outboundAllow: parseOutboundAllowList('127.0.0.1') };
    const command = register({ ...pk, jwksUri: 'https://127.0.0.1:8443/jwks' });
    expect(decideClient(command, initialClientState(), rules)).toHaveLength(1);
    expect(() =>
      decideClient(register({ ...pk, jwksUri: 'https://127.0.0.2/jwks' }), initialClientState(), rules),
    ).toThrow(expect.objectContaining({ error: 'invalid_client_metadata' }));
  });

  it('lets a confidential client turn PKCE off and set its lifetimes and grace window', () => {
    const [event] = eventsOf(
      register({
        requirePkce: false,
        accessTokenTtlSeconds: 300,
        refreshTokenTtlSeconds: 86400,
        refreshTokenReuseGraceSeconds: 60,
      }),
    );
    expect(event!.data).toMatchObject({
      requirePkce: false,
      accessTokenTtlSeconds: 300,
      refreshTokenTtlSeconds: 86400,
      refreshTokenReuseGraceSeconds: 60,
    });
  });
});

describe('client lifecycle events (RFC 7592 §2.2, §2.3)', () => {
  const registered = eventsOf(register());

  it('an update replaces the metadata and keeps the secret and the id', () => {
    const [updated] = decideClient(
      {
        type: 'UpdateClient',
        origin: { kind: 'administrator', privilegedScopes: ['admin'] },
        clientName: 'C1 renamed',
        tokenEndpointAuthMethod: 'client_secret_post',
        grantTypes: ['client_credentials'],
        scope: ['read'],
        defaultScope: ['read'],
        audience: [],
        now,
      },
      stateAfter(decider, registered),
    );
    expect(updated!.type).toBe('ClientUpdated');
    const state = stateAfter(decider, [...registered, updated!]);
    expect(clientView(state)).toMatchObject({
      clientId: 'c1',
      clientName: 'C1 renamed',
      redirectUris: [],
      grantTypes: ['client_credentials'],
    });
    expect(
      authenticateClient(
        state,
        { method: 'client_secret_post', clientId: 'c1', clientSecret: SECRET },
        keys,
        now,
      ).clientId,
    ).toBe('c1');
  });

  it('an update cannot turn a secret client into a public one', () => {
    spec
      .given(registered)
      .when({
        type: 'UpdateClient',
        origin: { kind: 'administrator', privilegedScopes: ['admin'] },
        clientName: 'C1',
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['authorization_code'],
        redirectUris: ['https://c1.test/cb'],
        scope: [],
        defaultScope: [],
        audience: [],
        now,
      })
      .thenThrows('invalid_client_metadata');
  });

  it('a disabled client stays readable but no longer authenticates', () => {
    const events = [
      ...registered,
      ...decideClient({ type: 'DisableClient', now }, stateAfter(decider, registered)),
    ];
    expect(events.map((e) => e.type)).toEqual(['ClientRegistered', 'ClientDisabled']);
    const state = stateAfter(decider, events);
    expect(clientView(state).status).toBe('disabled');
    expect(() =>
      authenticateClient(
        state,
        { method: 'client_secret_basic', clientId: 'c1', clientSecret: SECRET },
        keys,
        now,
      ),
    ).toThrow(expect.objectContaining({ error: 'invalid_client', status: 401 }));
  });

  it('disabling twice records nothing the second time', () => {
    const events = [
      ...registered,
      { type: 'ClientDisabled', data: { clientId: 'c1', disabledAt: now.toISOString() } },
    ];
    spec.given(events).when({ type: 'DisableClient', now }).then([]);
  });

  it('a deleted client is gone: not_found to read, invalid_client to authenticate, no re-registration', () => {
    const events = [
      ...registered,
      ...decideClient({ type: 'DeleteClient', now }, stateAfter(decider, registered)),
    ];
    expect(events.map((e) => e.type)).toEqual(['ClientRegistered', 'ClientDeleted']);
    const state = stateAfter(decider, events);
    expect(() => clientView(state)).toThrow(expect.objectContaining({ error: 'not_found' }));
    expect(() =>
      authenticateClient(
        state,
        { method: 'client_secret_basic', clientId: 'c1', clientSecret: SECRET },
        keys,
        now,
      ),
    ).toThrow(expect.objectContaining({ error: 'invalid_client' }));
    spec.given(events).when({ type: 'DeleteClient', now }).thenThrows('not_found');
    spec.given(events).when(register()).thenThrows('invalid_client_metadata');
  });

  it('checks the registration access token by hash (RFC 7592 §3)', () => {
    const state = stateAfter(decider, registered);
    expect(registrationAccessTokenMatches(state, 'rat', keys)).toBe(true);
    expect(registrationAccessTokenMatches(state, 'ra', keys)).toBe(false);
    expect(registrationAccessTokenMatches(initialClientState(), 'rat', keys)).toBe(false);
  });
});

describe('secret rotation grace period (checklist REG-12, decision 15)', () => {
  const registered = eventsOf(register());
  const NEW = 'secret-two';
  const basic = (clientSecret: string): PresentedClientCredentials => ({
    method: 'client_secret_basic',
    clientId: 'c1',
    clientSecret,
  });

  it('with a grace period the old secret works until it ends, the new one at once', () => {
    const rotated = decideClient(
      { type: 'RotateClientSecret', secretHash: hashSecret(NEW, keys), graceSeconds: 3600, now },
      stateAfter(decider, registered),
    );
    expect(rotated[0]!.data).toMatchObject({ previousSecretValidUntil: '2030-01-01T01:00:00.000Z' });
    const state = stateAfter(decider, [...registered, ...rotated]);
    const inside = new Date(now.getTime() + 3599_000);
    const after = new Date(now.getTime() + 3600_000);
    expect(authenticateClient(state, basic(SECRET), keys, inside).clientId).toBe('c1');
    expect(authenticateClient(state, basic(NEW), keys, after).clientId).toBe('c1');
    expect(() => authenticateClient(state, basic(SECRET), keys, after)).toThrow(
      expect.objectContaining({ error: 'invalid_client' }),
    );
  });

  it('a second rotation ends the first grace period', () => {
    let state = stateAfter(decider, registered);
    const first = decideClient(
      { type: 'RotateClientSecret', secretHash: hashSecret(NEW, keys), graceSeconds: 3600, now },
      state,
    );
    state = stateAfter(decider, [...registered, ...first]);
    const second = decideClient(
      { type: 'RotateClientSecret', secretHash: hashSecret('three', keys), now },
      state,
    );
    state = stateAfter(decider, [...registered, ...first, ...second]);
    expect(() => authenticateClient(state, basic(SECRET), keys, now)).toThrow(
      expect.objectContaining({ error: 'invalid_client' }),
    );
    expect(() => authenticateClient(state, basic(NEW), keys, now)).toThrow(
      expect.objectContaining({ error: 'invalid_client' }),
    );
  });

  it('refuses a grace period over a day', () => {
    spec
      .given(registered)
      .when({ type: 'RotateClientSecret', secretHash: hashSecret(NEW, keys), graceSeconds: 86401, now })
      .thenThrows('invalid_client_metadata');
  });
});

describe('private_key_jwt (RFC 7523 §2.2, §3)', () => {
  const issuer = 'https://as.test';
  const audiences = clientAssertionAudiences(issuer, { legacyTokenEndpoint: false });

  async function setup() {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const state = stateAfter(
      decider,
      eventsOf(
        register({
          clientId: 'pk',
          tokenEndpointAuthMethod: 'private_key_jwt',
          secretHash: null,
          jwks: { keys: [jwk] },
        }),
      ),
    );
    const sign = (claims: Record<string, unknown> = {}, key = privateKey) =>
      new SignJWT({ jti: 'j1', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer((claims.iss as string) ?? 'pk')
        .setSubject((claims.sub as string) ?? 'pk')
        .setAudience((claims.aud as string | string[]) ?? issuer)
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .setExpirationTime((claims.exp as number) ?? Math.floor(now.getTime() / 1000) + 60)
        .sign(key);
    return { state, sign, jwks: { keys: [jwk] } };
  }

  const presented = (clientAssertion: string, clientId = 'pk'): PresentedClientCredentials => ({
    method: 'private_key_jwt',
    clientId,
    clientAssertion,
  });

  it('accepts an assertion signed by a registered key', async () => {
    const { state, sign, jwks } = await setup();
    const client = clientForAssertion(state, presented(await sign()));
    const verified = await verifyClientAssertion(presented(await sign()), localKeySet(client.jwks!), {
      audiences,
      now,
    });
    expect(verified).toMatchObject({ clientId: 'pk', jti: 'j1' });
    expect(jwks.keys).toHaveLength(1);
  });

  it.each([
    ['another iss', { iss: 'other' }],
    ['another sub', { sub: 'other' }],
    ['another audience', { aud: 'https://evil.test' }],
    ['the token endpoint URL as audience (draft-ietf-oauth-rfc7523bis)', { aud: `${issuer}/token` }],
    ['the introspection endpoint URL as audience', { aud: `${issuer}/introspect` }],
    ['an audience array holding the issuer and another', { aud: [issuer, 'https://rp.test'] }],
    ['a single-valued audience array', { aud: [issuer] }],
    ['an expired assertion', { exp: Math.floor(now.getTime() / 1000) - 60 }],
    ['an assertion living over 10 minutes', { exp: Math.floor(now.getTime() / 1000) + 3600 }],
  ])('refuses %s with invalid_client', async (_name, claims) => {
    const { state, sign } = await setup();
    const client = clientForAssertion(state, presented(await sign()));
    await expect(
      verifyClientAssertion(presented(await sign(claims)), localKeySet(client.jwks!), { audiences, now }),
    ).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('accepts the token endpoint URL as the sole audience when the operator allows the legacy form', async () => {
    const { state, sign } = await setup();
    const client = clientForAssertion(state, presented(await sign()));
    const legacy = clientAssertionAudiences(issuer, { legacyTokenEndpoint: true });
    expect(legacy).toEqual([issuer, `${issuer}/token`]);
    const keys = localKeySet(client.jwks!);
    await expect(
      verifyClientAssertion(presented(await sign({ aud: `${issuer}/token` })), keys, {
        audiences: legacy,
        now,
      }),
    ).resolves.toMatchObject({ clientId: 'pk' });
    for (const aud of [`${issuer}/revoke`, [`${issuer}/token`, 'https://rp.test']])
      await expect(
        verifyClientAssertion(presented(await sign({ aud })), keys, { audiences: legacy, now }),
      ).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an assertion signed by another key', async () => {
    const { state, sign } = await setup();
    const other = await generateKeyPair('ES256');
    await expect(
      verifyClientAssertion(
        presented(await sign({}, other.privateKey)),
        localKeySet(state.status === 'active' ? state.jwks! : { keys: [] }),
        { audiences, now },
      ),
    ).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an assertion with alg none or HS256', async () => {
    const { state } = await setup();
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'pk', sub: 'pk', aud: issuer, exp: 1e10, jti: 'x' })).toString('base64url')}.`;
    const hs = await new SignJWT({ jti: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('pk')
      .setSubject('pk')
      .setAudience(issuer)
      .setExpirationTime('1m')
      .sign(new Uint8Array(32));
    for (const a of [none, hs, 'not-a-jwt']) {
      await expect(
        verifyClientAssertion(
          presented(a),
          localKeySet(state.status === 'active' ? state.jwks! : { keys: [] }),
          { audiences, now },
        ),
      ).rejects.toMatchObject({ error: 'invalid_client' });
    }
  });

  it('a client registered for a secret cannot use private_key_jwt (decision 7)', () => {
    const state = stateAfter(decider, eventsOf(register()));
    expect(() => clientForAssertion(state, presented('x', 'c1'))).toThrow(
      expect.objectContaining({ error: 'invalid_client' }),
    );
  });

  it('a private_key_jwt client cannot use a secret', async () => {
    const { state } = await setup();
    expect(() =>
      authenticateClient(
        state,
        { method: 'client_secret_post', clientId: 'pk', clientSecret: 'x' },
        keys,
        now,
      ),
    ).toThrow(expect.objectContaining({ error: 'invalid_client' }));
  });

  it('names one stream per (client, jti) so a jti is used once', () => {
    expect(clientAssertionStreamId('pk', 'j1')).toBe(clientAssertionStreamId('pk', 'j1'));
    expect(clientAssertionStreamId('pk', 'j1')).not.toBe(clientAssertionStreamId('pk', 'j2'));
    expect(clientAssertionStreamId('pk', 'j1')).not.toBe(clientAssertionStreamId('pk2', 'j1'));
  });
});

describe('client authentication throttling (checklist CAUTH-19, decision 13: per source address)', () => {
  const policy = { maxFailures: 10, windowSeconds: 60 };
  const at = (s: number) => new Date(now.getTime() + s * 1000);

  it('allows 10 failures from an address, then answers that address 429 with Retry-After', () => {
    const t = new FailureThrottle(policy);
    for (let i = 0; i < 10; i++) {
      expect(() => t.check('192.0.2.1', at(i))).not.toThrow();
      t.recordFailure('192.0.2.1', at(i));
    }
    let err: unknown;
    try {
      t.check('192.0.2.1', at(10));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ error: 'invalid_client', status: 429, headers: { 'Retry-After': '50' } });
  });

  it('counts per address and forgets failures older than the window', () => {
    const t = new FailureThrottle(policy);
    for (let i = 0; i < 10; i++) t.recordFailure('192.0.2.1', at(0));
    expect(() => t.check('192.0.2.2', at(1))).not.toThrow();
    expect(() => t.check('192.0.2.1', at(59))).toThrow();
    expect(() => t.check('192.0.2.1', at(60))).not.toThrow();
  });
});
