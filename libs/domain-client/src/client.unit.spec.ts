import { Keyset } from '#lib/keysets';
import type { ClientView, PresentedClientCredentials } from '#lib/contracts';
import { type NewEvent } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { OAuthError } from '#lib/oauth-errors';
import { deciderSpecification, recordEvents, stateAfter } from '../../testing/src/decider-specification.js';
import { authenticateClient } from './client-authentication.js';
import {
  CLIENT_METADATA_SCHEMA_VERSION,
  type ClientRegistered,
  type ClientSecretRotated,
} from './client-events.js';
import {
  clientDecider,
  clientStreamId,
  decideClient as decideClientDecision,
  type ClientCommand,
  type RegisterClient,
} from './client.js';
import { clientView, evolveClient, initialClientState, type ClientState } from './client-state.js';
import { CLIENT_UPCASTERS } from './client-events.js';
import { hashSecret } from './secret.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideClient = (...args: Parameters<typeof decideClientDecision>) =>
  eventsOrThrow(decideClientDecision(...args));

const decider = { ...clientDecider, upcasters: CLIENT_UPCASTERS };
const spec = deciderSpecification<ClientCommand, ClientState>(decider);

const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 7) }]);
const now = new Date('2030-01-01T00:00:00.000Z');
const later = new Date('2030-01-02T00:00:00.000Z');
const SECRET = 'first-secret';
const NEW_SECRET = 'second-secret';

const register = (overrides: Partial<RegisterClient> = {}): RegisterClient => ({
  type: 'RegisterClient',
  origin: { kind: 'administrator', privilegedScopes: ['admin'] },
  clientId: 's1',
  clientName: 'Service one',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['client_credentials'],
  scope: ['read', 'write'],
  defaultScope: ['read'],
  audience: ['https://api.test'],
  secretHash: hashSecret(SECRET, keys),
  now,
  ...overrides,
});

const registered = (
  overrides: Partial<ClientRegistered['data']> = {},
): ClientRegistered & { schemaVersion: number } => ({
  type: 'ClientRegistered',
  schemaVersion: CLIENT_METADATA_SCHEMA_VERSION,
  data: {
    clientId: 's1',
    clientName: 'Service one',
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    scope: ['read', 'write'],
    defaultScope: ['read'],
    audience: ['https://api.test'],
    responseTypes: [],
    redirectUris: [],
    clientUri: null,
    logoUri: null,
    contacts: [],
    requirePkce: true,
    refreshTokenReuseGraceSeconds: 0,
    accessTokenTtlSeconds: null,
    refreshTokenTtlSeconds: null,
    jwks: null,
    jwksUri: null,
    secretHash: hashSecret(SECRET, keys),
    registrationAccessTokenHash: null,
    secretExpiresAt: null,
    registeredAt: now.toISOString(),
    ...overrides,
  },
});

const publicRegistered = registered({
  clientId: 'p1',
  tokenEndpointAuthMethod: 'none',
  grantTypes: ['authorization_code', 'refresh_token'],
  responseTypes: ['code'],
  redirectUris: ['https://p1.test/cb'],
  secretHash: null,
  audience: [],
});

const rotated = (secret: string, at = later): ClientSecretRotated => ({
  type: 'ClientSecretRotated',
  data: {
    clientId: 's1',
    secretHash: hashSecret(secret, keys),
    rotatedAt: at.toISOString(),
    secretExpiresAt: null,
  },
});

describe('client registration (RFC 7591 §2, §3.2.2; checklist REG-10)', () => {
  it('registers a confidential client', () => {
    spec.given([]).when(register()).then([registered()]);
  });

  it('registers a public client with no secret (REG-02)', () => {
    spec
      .given([])
      .when(
        register({
          clientId: 'p1',
          tokenEndpointAuthMethod: 'none',
          grantTypes: ['authorization_code', 'refresh_token'],
          redirectUris: ['https://p1.test/cb'],
          secretHash: null,
          audience: [],
        }),
      )
      .then([publicRegistered]);
  });

  it('de-duplicates grant types, scope, default scope and audience', () => {
    spec
      .given([])
      .when(
        register({
          grantTypes: ['client_credentials', 'client_credentials'],
          scope: ['read', 'write', 'read'],
          defaultScope: ['read', 'read'],
          audience: ['https://api.test', 'https://api.test'],
        }),
      )
      .then([registered()]);
  });

  it('the event holds only the secret hash, never the secret (STORE-01, STORE-05)', () => {
    const [event] = decideClient(register(), initialClientState());
    expect(JSON.stringify(event)).not.toContain(SECRET);
  });

  it('refuses to register the same client_id twice', () => {
    spec.given([registered()]).when(register()).thenThrows({ error: 'invalid_client_metadata', status: 400 });
  });

  it('refuses a re-registration even when it would change nothing else', () => {
    spec
      .given([registered()])
      .when(register({ clientName: 'Another name', secretHash: hashSecret('other', keys) }))
      .thenThrows('invalid_client_metadata');
  });

  describe('metadata rules', () => {
    it.each([
      ['the password grant (RFC 9700 §2.4)', { grantTypes: ['client_credentials', 'password'] }],
      ['the implicit grant (OAuth 2.1 §10.1)', { grantTypes: ['implicit'] }],
      ['the response type token used as a grant', { grantTypes: ['token'] }],
      ['an unknown grant', { grantTypes: ['urn:ietf:params:oauth:grant-type:jwt-bearer'] }],
      ['a grant name in the wrong case', { grantTypes: ['Client_Credentials'] }],
      ['no grant types', { grantTypes: [] }],
      [
        'a public client with client_credentials (RFC 6749 §4.4)',
        { tokenEndpointAuthMethod: 'none', secretHash: null, grantTypes: ['client_credentials'] },
      ],
      [
        'a public client with a secret',
        {
          tokenEndpointAuthMethod: 'none',
          grantTypes: ['authorization_code'],
          redirectUris: ['https://p.test/cb'],
        },
      ],
      ['a confidential client without a secret', { secretHash: null }],
      ['a default scope outside the allowed scope', { scope: ['read'], defaultScope: ['read', 'admin'] }],
      ['a default scope with no allowed scope', { scope: [], defaultScope: ['read'] }],
      ['a scope token with a space', { scope: ['read write'], defaultScope: [] }],
      ['an empty scope token', { scope: [''], defaultScope: [] }],
      ['a scope token with a double quote', { scope: ['"read"'], defaultScope: [] }],
      ['a scope token with a backslash', { scope: ['a\\b'], defaultScope: [] }],
      ['a non-ASCII scope token', { scope: ['lecture', 'écriture'], defaultScope: [] }],
      ['an invalid default scope token', { scope: ['read'], defaultScope: ['re ad'] }],
      ['an empty client_id', { clientId: '' }],
      ['a client_id with a space', { clientId: 's 1' }],
      ['a client_id with a NUL', { clientId: 's\u00001' }],
      ['a client_id longer than 128 characters', { clientId: 'c'.repeat(129) }],
      ['a blank client_name', { clientName: '   ' }],
      ['a client_name longer than 200 characters (REG-14)', { clientName: 'n'.repeat(201) }],
      ['an empty audience entry', { audience: [''] }],
      ['an audience entry longer than 500 characters', { audience: ['a'.repeat(501)] }],
    ] as Array<[string, Partial<RegisterClient>]>)(
      'refuses %s with invalid_client_metadata',
      (_name, overrides) => {
        spec
          .given([])
          .when(register(overrides))
          .thenThrows({ error: 'invalid_client_metadata', status: 400 });
      },
    );

    it.each([
      ['a 128-character client_id', { clientId: 'c'.repeat(128) }],
      ['a client_id with : and %', { clientId: 'urn:client:%41' }],
      ['a 200-character client_name', { clientName: 'n'.repeat(200) }],
      ['no scope at all', { scope: [], defaultScope: [] }],
      ['no audience (defaults to the issuer later)', { audience: [] }],
      [
        'every supported grant',
        {
          grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
          redirectUris: ['https://c1.test/cb'],
        },
      ],
    ] as Array<[string, Partial<RegisterClient>]>)('accepts %s', (_name, overrides) => {
      const events = decideClient(register(overrides), initialClientState());
      expect(events.map((e) => e.type)).toEqual(['ClientRegistered']);
    });
  });
});

describe('client secret rotation (checklist REG-12, decision 15)', () => {
  it('rotates the secret of a confidential client', () => {
    const newHash = hashSecret(NEW_SECRET, keys);
    spec
      .given([registered()])
      .when({ type: 'RotateClientSecret', secretHash: newHash, now: later })
      .then([rotated(NEW_SECRET)]);
  });

  it('can rotate again after a rotation', () => {
    spec
      .given([registered(), rotated(NEW_SECRET)])
      .when({ type: 'RotateClientSecret', secretHash: hashSecret('third', keys), now: later })
      .then([rotated('third')]);
  });

  it('refuses to rotate an unregistered client with not_found', () => {
    spec
      .given([])
      .when({ type: 'RotateClientSecret', secretHash: hashSecret(NEW_SECRET, keys), now: later })
      .thenThrows({ error: 'not_found', status: 404 });
  });

  it('refuses to give a public client a secret', () => {
    spec
      .given([publicRegistered])
      .when({ type: 'RotateClientSecret', secretHash: hashSecret(NEW_SECRET, keys), now: later })
      .thenThrows({ error: 'invalid_client_metadata', status: 400 });
  });

  it('after rotation the old secret fails and the new one works (no grace period by default)', () => {
    const state = stateAfter(decider, [registered(), rotated(NEW_SECRET)]);
    expect(() =>
      authenticateClient(
        state,
        { method: 'client_secret_basic', clientId: 's1', clientSecret: SECRET },
        keys,
      ),
    ).toThrow(OAuthError);
    expect(
      authenticateClient(
        state,
        { method: 'client_secret_basic', clientId: 's1', clientSecret: NEW_SECRET },
        keys,
      ).clientId,
    ).toBe('s1');
  });
});

describe('client state (evolve)', () => {
  it('starts unregistered', () => {
    expect(initialClientState()).toEqual({ status: 'unregistered' });
  });

  it('becomes active with the registered metadata', () => {
    expect(stateAfter(decider, [registered()])).toEqual({
      status: 'active',
      clientId: 's1',
      privilegedScopes: [],
      clientName: 'Service one',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
      scope: ['read', 'write'],
      defaultScope: ['read'],
      audience: ['https://api.test'],
      responseTypes: [],
      redirectUris: [],
      clientUri: null,
      logoUri: null,
      contacts: [],
      requirePkce: true,
      refreshTokenReuseGraceSeconds: 0,
      accessTokenTtlSeconds: null,
      refreshTokenTtlSeconds: null,
      jwks: null,
      jwksUri: null,
      secretHash: hashSecret(SECRET, keys),
      secretExpiresAt: null,
      previousSecretHash: null,
      previousSecretValidUntil: null,
      registrationAccessTokenHash: null,
      registeredAt: now.toISOString(),
    });
  });

  it('a rotation changes only the secret hash', () => {
    const before = stateAfter(decider, [registered()]);
    const after = stateAfter(decider, [registered(), rotated(NEW_SECRET)]);
    expect(after).toEqual({ ...before, secretHash: hashSecret(NEW_SECRET, keys) });
  });

  it('ignores a rotation for a stream with no registration', () => {
    expect(stateAfter(decider, [rotated(NEW_SECRET)])).toEqual({ status: 'unregistered' });
  });

  it('ignores events of other types', () => {
    const state = stateAfter(decider, [registered()]);
    const [other] = recordEvents([{ type: 'SomethingElse', data: {} }]);
    expect(evolveClient(state, other! as never)).toBe(state);
  });

  it('is deterministic: the same events give the same state', () => {
    const events: NewEvent[] = [registered(), rotated(NEW_SECRET), rotated('third')];
    expect(stateAfter(decider, events)).toEqual(stateAfter(decider, events));
  });

  it('clientView never contains the secret hash', () => {
    const view = clientView(stateAfter(decider, [registered()]));
    expect(view).toEqual({
      clientId: 's1',
      clientName: 'Service one',
      status: 'active',
      privilegedScopes: [],
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
      scope: ['read', 'write'],
      defaultScope: ['read'],
      audience: ['https://api.test'],
      redirectUris: [],
      responseTypes: [],
      clientUri: null,
      logoUri: null,
      contacts: [],
      requirePkce: true,
      refreshTokenReuseGraceSeconds: 0,
      jwks: null,
      jwksUri: null,
      registeredAt: now.toISOString(),
      secretExpiresAt: null,
    });
    expect(JSON.stringify(view)).not.toContain(hashSecret(SECRET, keys));
  });

  it('clientView of an unregistered client is not_found', () => {
    expect(() => clientView(initialClientState())).toThrow(expect.objectContaining({ error: 'not_found' }));
  });

  it('names the stream client-<client_id>', () => {
    expect(clientStreamId('s1')).toBe('client-s1');
  });
});

describe('client authentication (RFC 6749 §2.3.1, §5.2; checklist CAUTH-02 to CAUTH-15)', () => {
  const confidentialBasic = stateAfter(decider, [registered()]);
  const confidentialPost = stateAfter(decider, [
    registered({ tokenEndpointAuthMethod: 'client_secret_post' }),
  ]);
  const publicClient = stateAfter(decider, [publicRegistered]);
  const BASIC_HEADERS = { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' };

  function failure(state: ClientState, presented: PresentedClientCredentials): OAuthError {
    try {
      authenticateClient(state, presented, keys);
    } catch (err) {
      expect(err).toBeInstanceOf(OAuthError);
      return err as OAuthError;
    }
    throw new Error('expected authentication to fail');
  }

  /** The part of the error that leaves the process: the same for every failure (CAUTH-03). */
  const wire = (err: OAuthError) => ({
    error: err.error,
    status: err.status,
    description: err.description,
    headers: err.headers,
  });

  it('accepts the registered method with the right secret and returns the view', () => {
    const view: ClientView = authenticateClient(
      confidentialBasic,
      { method: 'client_secret_basic', clientId: 's1', clientSecret: SECRET },
      keys,
    );
    expect(view).toEqual(clientView(confidentialBasic));
  });

  it('accepts client_secret_post for a client registered for it', () => {
    expect(
      authenticateClient(
        confidentialPost,
        { method: 'client_secret_post', clientId: 's1', clientSecret: SECRET },
        keys,
      ).clientId,
    ).toBe('s1');
  });

  it('accepts a public client presenting client_id alone', () => {
    expect(authenticateClient(publicClient, { method: 'none', clientId: 'p1' }, keys).clientId).toBe('p1');
  });

  it('a wrong secret with Basic is 401 invalid_client with WWW-Authenticate: Basic (CAUTH-02)', () => {
    const err = failure(confidentialBasic, {
      method: 'client_secret_basic',
      clientId: 's1',
      clientSecret: 'wrong',
    });
    expect(wire(err)).toEqual({
      error: 'invalid_client',
      status: 401,
      description: 'client authentication failed',
      headers: BASIC_HEADERS,
    });
  });

  it('an unknown client with Basic fails exactly like a wrong secret (CAUTH-03)', () => {
    const unknown = failure(initialClientState(), {
      method: 'client_secret_basic',
      clientId: 'nope',
      clientSecret: SECRET,
    });
    const wrong = failure(confidentialBasic, {
      method: 'client_secret_basic',
      clientId: 's1',
      clientSecret: 'wrong',
    });
    expect(wire(unknown)).toEqual(wire(wrong));
  });

  it('a wrong secret with client_secret_post is 401 invalid_client without a Basic challenge (CAUTH-04)', () => {
    const err = failure(confidentialPost, {
      method: 'client_secret_post',
      clientId: 's1',
      clientSecret: 'wrong',
    });
    expect(wire(err)).toEqual({
      error: 'invalid_client',
      status: 401,
      description: 'client authentication failed',
      headers: {},
    });
  });

  it('an unknown client with client_secret_post is 401 invalid_client (CAUTH-05)', () => {
    const err = failure(initialClientState(), {
      method: 'client_secret_post',
      clientId: 'nope',
      clientSecret: 'x',
    });
    expect(wire(err)).toEqual({
      error: 'invalid_client',
      status: 401,
      description: 'client authentication failed',
      headers: {},
    });
  });

  it('a confidential client sending client_id alone is invalid_client (CAUTH-06)', () => {
    const err = failure(confidentialPost, { method: 'none', clientId: 's1' });
    expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_client', status: 401 });
  });

  it('a public client that sends a client_secret is invalid_client (CAUTH-10)', () => {
    const err = failure(publicClient, {
      method: 'client_secret_post',
      clientId: 'p1',
      clientSecret: 'anything',
    });
    expect({ error: err.error, status: err.status }).toEqual({ error: 'invalid_client', status: 401 });
  });

  it('a public client authenticating with Basic is invalid_client with the Basic challenge', () => {
    const err = failure(publicClient, { method: 'client_secret_basic', clientId: 'p1', clientSecret: 'x' });
    expect(wire(err)).toMatchObject({ error: 'invalid_client', status: 401, headers: BASIC_HEADERS });
  });

  it('the registered method is enforced even with the right secret (CAUTH-15, decision 7)', () => {
    const basicAsPost = failure(confidentialBasic, {
      method: 'client_secret_post',
      clientId: 's1',
      clientSecret: SECRET,
    });
    expect(wire(basicAsPost)).toEqual({
      error: 'invalid_client',
      status: 401,
      description: 'client authentication failed',
      headers: {},
    });
    const postAsBasic = failure(confidentialPost, {
      method: 'client_secret_basic',
      clientId: 's1',
      clientSecret: SECRET,
    });
    expect(wire(postAsBasic)).toEqual({
      error: 'invalid_client',
      status: 401,
      description: 'client authentication failed',
      headers: BASIC_HEADERS,
    });
  });

  it('a missing or empty secret is invalid_client', () => {
    expect(failure(confidentialBasic, { method: 'client_secret_basic', clientId: 's1' }).error).toBe(
      'invalid_client',
    );
    expect(
      failure(confidentialBasic, { method: 'client_secret_basic', clientId: 's1', clientSecret: '' }).error,
    ).toBe('invalid_client');
  });

  it('the secret is compared exactly: no prefix, suffix or case variant passes', () => {
    for (const clientSecret of [SECRET.slice(0, -1), `${SECRET}x`, SECRET.toUpperCase(), ` ${SECRET}`]) {
      expect(
        failure(confidentialBasic, { method: 'client_secret_basic', clientId: 's1', clientSecret }).error,
      ).toBe('invalid_client');
    }
  });

  it('a secret hashed under another key does not match', () => {
    const state = stateAfter(decider, [
      registered({ secretHash: hashSecret(SECRET, new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 8) }])) }),
    ]);
    expect(
      failure(state, { method: 'client_secret_basic', clientId: 's1', clientSecret: SECRET }).error,
    ).toBe('invalid_client');
  });

  it('keeps the reason in the log-only detail, not in the description', () => {
    const err = failure(confidentialBasic, {
      method: 'client_secret_basic',
      clientId: 's1',
      clientSecret: 'wrong',
    });
    expect(err.detail).toBe('wrong secret');
    expect(
      failure(initialClientState(), { method: 'client_secret_post', clientId: 'x', clientSecret: 'y' })
        .detail,
    ).toBe('unknown client');
  });
});

describe('client secret expiry (RFC 7591 §3.2.1; checklist CAUTH-16)', () => {
  const TTL = 90 * 86400;
  const expiry = new Date(now.getTime() + TTL * 1000);
  const basic = (clientSecret: string): PresentedClientCredentials => ({
    method: 'client_secret_basic',
    clientId: 's1',
    clientSecret,
  });
  const expiring = stateAfter(decider, [registered({ secretExpiresAt: expiry.toISOString() })]);

  it('CAUTH-16: registration records when the secret expires; a lifetime of 0 or none means never', () => {
    spec
      .given([])
      .when(register({ secretTtlSeconds: TTL }))
      .then([registered({ secretExpiresAt: '2030-04-01T00:00:00.000Z' })]);
    spec
      .given([])
      .when(register({ secretTtlSeconds: 0 }))
      .then([registered({ secretExpiresAt: null })]);
    spec
      .given([])
      .when(register())
      .then([registered({ secretExpiresAt: null })]);
  });

  it('CAUTH-16: the expiry is rounded up to a whole second, so client_secret_expires_at names it exactly', () => {
    const [event] = decideClient(
      register({ secretTtlSeconds: 60, now: new Date('2030-01-01T00:00:00.250Z') }),
      initialClientState(),
    );
    expect(event!.data).toMatchObject({ secretExpiresAt: '2030-01-01T00:01:01.000Z' });
  });

  it('CAUTH-16: a client without a secret has no expiry, whatever the lifetime', () => {
    const [event] = decideClient(
      register({
        clientId: 'p1',
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: ['https://p1.test/cb'],
        secretHash: null,
        audience: [],
        secretTtlSeconds: TTL,
      }),
      initialClientState(),
    );
    expect(event!.data).toMatchObject({ secretExpiresAt: null });
    expect(clientView(stateAfter(decider, [event!])).secretExpiresAt).toBeUndefined();
  });

  it('CAUTH-16: refuses a negative, fractional or over-long lifetime', () => {
    for (const secretTtlSeconds of [-1, 1.5, 10 * 365 * 86400 + 1])
      spec.given([]).when(register({ secretTtlSeconds })).thenThrows('invalid_client_metadata');
  });

  it('CAUTH-16: the secret works until the last millisecond before its expiry', () => {
    const justBefore = new Date(expiry.getTime() - 1);
    expect(authenticateClient(expiring, basic(SECRET), keys, justBefore).clientId).toBe('s1');
  });

  it('CAUTH-16: from its expiry on, the right secret is 401 invalid_client, like a wrong one', () => {
    const wire = (err: OAuthError) => ({
      error: err.error,
      status: err.status,
      description: err.description,
      headers: err.headers,
    });
    const failure = (presented: PresentedClientCredentials, at: Date): OAuthError => {
      try {
        authenticateClient(expiring, presented, keys, at);
      } catch (err) {
        expect(err).toBeInstanceOf(OAuthError);
        return err as OAuthError;
      }
      throw new Error('expected authentication to fail');
    };
    for (const at of [expiry, new Date(expiry.getTime() + 1), new Date(expiry.getTime() + 365 * 86400_000)]) {
      const expired = failure(basic(SECRET), at);
      expect(wire(expired)).toEqual(wire(failure(basic('wrong'), at)));
      expect(wire(expired)).toEqual({
        error: 'invalid_client',
        status: 401,
        description: 'client authentication failed',
        headers: { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' },
      });
      expect(expired.detail).toBe('secret expired');
    }
    const post = stateAfter(decider, [
      registered({ tokenEndpointAuthMethod: 'client_secret_post', secretExpiresAt: expiry.toISOString() }),
    ]);
    expect(() =>
      authenticateClient(
        post,
        { method: 'client_secret_post', clientId: 's1', clientSecret: SECRET },
        keys,
        expiry,
      ),
    ).toThrow(expect.objectContaining({ error: 'invalid_client', status: 401, headers: {} }));
  });

  it('CAUTH-16: a secret without an expiry (0 = never, or an event written before expiry existed) never expires', () => {
    const never = stateAfter(decider, [registered({ secretExpiresAt: null })]);
    const { secretExpiresAt: _omitted, ...oldData } = registered().data;
    const old = stateAfter(decider, [{ type: 'ClientRegistered', data: oldData }]);
    const farFuture = new Date('2999-01-01T00:00:00.000Z');
    for (const state of [never, old]) {
      expect(state).toMatchObject({ secretExpiresAt: null });
      expect(authenticateClient(state, basic(SECRET), keys, farFuture).clientId).toBe('s1');
    }
  });

  it('CAUTH-16: a rotation issues a fresh secret with a fresh expiry and restores access', () => {
    const afterExpiry = new Date(expiry.getTime() + 1000);
    const events = decideClient(
      {
        type: 'RotateClientSecret',
        secretHash: hashSecret(NEW_SECRET, keys),
        secretTtlSeconds: TTL,
        now: afterExpiry,
      },
      expiring,
    );
    expect(events).toEqual([
      {
        type: 'ClientSecretRotated',
        data: {
          clientId: 's1',
          secretHash: hashSecret(NEW_SECRET, keys),
          rotatedAt: afterExpiry.toISOString(),
          secretExpiresAt: new Date(afterExpiry.getTime() + TTL * 1000).toISOString(),
        },
      },
    ]);
    const state = stateAfter(decider, [registered({ secretExpiresAt: expiry.toISOString() }), ...events]);
    expect(authenticateClient(state, basic(NEW_SECRET), keys, afterExpiry).clientId).toBe('s1');
    expect(clientView(state).secretExpiresAt).toBe(
      new Date(afterExpiry.getTime() + TTL * 1000).toISOString(),
    );
    expect(() => authenticateClient(state, basic(SECRET), keys, afterExpiry)).toThrow(
      expect.objectContaining({ error: 'invalid_client' }),
    );
  });

  it('CAUTH-16: a rotation without a lifetime gives a secret that never expires', () => {
    const [event] = decideClient(
      { type: 'RotateClientSecret', secretHash: hashSecret(NEW_SECRET, keys), now: later },
      expiring,
    );
    expect(event!.data).toMatchObject({ secretExpiresAt: null });
  });

  it('CAUTH-16: a grace period does not outlive the previous secret’s own expiry', () => {
    const rotateAt = new Date(expiry.getTime() - 600_000);
    const events = decideClient(
      {
        type: 'RotateClientSecret',
        secretHash: hashSecret(NEW_SECRET, keys),
        graceSeconds: 3600,
        now: rotateAt,
      },
      expiring,
    );
    expect(events[0]!.data).toMatchObject({ previousSecretValidUntil: expiry.toISOString() });
    const state = stateAfter(decider, [registered({ secretExpiresAt: expiry.toISOString() }), ...events]);
    const justBefore = new Date(expiry.getTime() - 1);
    expect(authenticateClient(state, basic(SECRET), keys, justBefore).clientId).toBe('s1');
    expect(() => authenticateClient(state, basic(SECRET), keys, expiry)).toThrow(
      expect.objectContaining({ error: 'invalid_client' }),
    );
    // An already expired secret gets no grace at all.
    const [late] = decideClient(
      {
        type: 'RotateClientSecret',
        secretHash: hashSecret(NEW_SECRET, keys),
        graceSeconds: 3600,
        now: later,
      },
      stateAfter(decider, [registered({ secretExpiresAt: now.toISOString() })]),
    );
    expect(late!.data).not.toHaveProperty('previousSecretValidUntil');
  });

  it('CAUTH-16: the client view carries the expiry for a secret client, null when it never expires', () => {
    expect(clientView(expiring).secretExpiresAt).toBe(expiry.toISOString());
    expect(clientView(stateAfter(decider, [registered()])).secretExpiresAt).toBeNull();
  });
});
