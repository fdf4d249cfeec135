import { Keyset, LEGACY_KID } from '#lib/keysets';
import { recordEvents } from '../../testing/src/decider-specification.js';
import { foldEvents, type NewEvent } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { CLIENT_FOLD, clientView, initialClientState, type ClientState } from './client-state.js';
import { decideClient as decideClientDecision } from './client.js';
import { clientsProjection } from './clients.projection.js';
import {
  createInitialAccessToken,
  evolveInitialAccessToken,
  locateInitialAccessToken,
  revokeInitialAccessToken,
  initialInitialAccessTokenState,
  useInitialAccessToken,
} from './initial-access-token.js';
import { clientMetadataDocument, parseClientMetadataDocument } from './rfc7591.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideClient = (...args: Parameters<typeof decideClientDecision>) =>
  eventsOrThrow(decideClientDecision(...args));

const now = new Date('2030-01-01T00:00:00.000Z');

describe('RFC 7591 §2 metadata documents', () => {
  it('reads snake_case members, the space-separated scope and RFC 7591 defaults', () => {
    expect(
      parseClientMetadataDocument({
        client_name: 'C1',
        redirect_uris: ['https://c1.test/cb'],
        scope: 'read  write',
        contacts: ['a@c1.test'],
        require_pkce: false,
        jwks_uri: 'https://c1.test/jwks',
      }),
    ).toEqual({
      clientName: 'C1',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['authorization_code'],
      scope: ['read', 'write'],
      defaultScope: [],
      audience: [],
      redirectUris: ['https://c1.test/cb'],
      contacts: ['a@c1.test'],
      requirePkce: false,
      jwksUri: 'https://c1.test/jwks',
    });
  });

  it('ignores a client_id proposed by the client (checklist REG-11) and unknown members', () => {
    const input = parseClientMetadataDocument({ client_id: 'alice', software_id: 'x', client_name: 'n' });
    expect(input).not.toHaveProperty('clientId');
    expect(JSON.stringify(input)).not.toContain('alice');
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a string', 'x'],
    ['a numeric client_name', { client_name: 1 }],
    ['grant_types as a string', { grant_types: 'client_credentials' }],
    ['a non-boolean require_pkce', { require_pkce: 'false' }],
    ['a fractional lifetime', { access_token_ttl_seconds: 1.5 }],
  ])('refuses %s with invalid_client_metadata', (_n, doc) => {
    expect(() => parseClientMetadataDocument(doc)).toThrow(
      expect.objectContaining({ error: 'invalid_client_metadata' }),
    );
  });

  it('refuses redirect_uris that are not strings with invalid_redirect_uri (RFC 7591 §3.2.2)', () => {
    expect(() => parseClientMetadataDocument({ redirect_uris: [1] })).toThrow(
      expect.objectContaining({ error: 'invalid_redirect_uri' }),
    );
  });

  it('writes the client information back as snake_case, never a hash', () => {
    const [event] = decideClient(
      {
        type: 'RegisterClient',
        origin: { kind: 'administrator', privilegedScopes: ['admin'] },
        clientId: 'c1',
        ...parseClientMetadataDocument({
          client_name: 'C1',
          redirect_uris: ['https://c1.test/cb'],
          scope: 'read',
        }),
        secretHash: 'h'.repeat(43),
        registrationAccessTokenHash: 'r'.repeat(43),
        now,
      },
      initialClientState(),
    );
    const state = foldEvents(CLIENT_FOLD, recordEvents([event!]));
    const doc = clientMetadataDocument(clientView(state));
    expect(doc).toMatchObject({
      client_id: 'c1',
      client_name: 'C1',
      redirect_uris: ['https://c1.test/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      scope: 'read',
      token_endpoint_auth_method: 'client_secret_basic',
      require_pkce: true,
      client_id_issued_at: Math.floor(now.getTime() / 1000),
    });
    expect(JSON.stringify(doc)).not.toMatch(/hhhh|rrrr/);
  });

  it('CAUTH-16: client_secret_expires_at is the secret’s expiry in seconds, 0 when it never expires (RFC 7591 §3.2.1)', () => {
    const documentFor = (secretTtlSeconds: number, method: 'client_secret_basic' | 'none') => {
      const [event] = decideClient(
        {
          type: 'RegisterClient',
          origin: { kind: 'administrator', privilegedScopes: ['admin'] },
          clientId: 'c1',
          ...parseClientMetadataDocument({
            client_name: 'C1',
            redirect_uris: ['https://c1.test/cb'],
            token_endpoint_auth_method: method,
          }),
          secretHash: method === 'none' ? null : 'h'.repeat(43),
          secretTtlSeconds,
          now,
        },
        initialClientState(),
      );
      return clientMetadataDocument(clientView(foldEvents(CLIENT_FOLD, recordEvents([event!]))));
    };
    expect(documentFor(3600, 'client_secret_basic').client_secret_expires_at).toBe(
      Math.floor(now.getTime() / 1000) + 3600,
    );
    expect(documentFor(0, 'client_secret_basic').client_secret_expires_at).toBe(0);
    expect(documentFor(3600, 'none')).not.toHaveProperty('client_secret_expires_at');
  });
});

describe('the clients projection (current clients)', () => {
  const events = recordEvents(
    [
      {
        type: 'ClientRegistered',
        data: {
          clientId: 's1',
          clientName: 'S1',
          tokenEndpointAuthMethod: 'client_secret_basic',
          grantTypes: ['client_credentials'],
          scope: ['read'],
          defaultScope: [],
          audience: [],
          secretHash: 'h'.repeat(43),
          registeredAt: now.toISOString(),
        },
      },
      {
        type: 'ClientSecretRotated',
        data: { clientId: 's1', secretHash: 'g'.repeat(43), rotatedAt: now.toISOString() },
      },
      {
        type: 'ClientSecretRotated',
        data: {
          clientId: 's1',
          secretHash: 'f'.repeat(43),
          rotatedAt: now.toISOString(),
          secretExpiresAt: '2030-04-01T00:00:00.000Z',
        },
      },
      { type: 'ClientDisabled', data: { clientId: 's1', disabledAt: now.toISOString() } },
      { type: 'ClientDeleted', data: { clientId: 's1', deletedAt: now.toISOString() } },
      { type: 'AccessTokenIssued', data: { clientId: 's1' } },
    ],
    { streamId: 'client-s1' },
  );

  it('keys client events by client_id and ignores other events', () => {
    expect(events.map((e) => clientsProjection.keyOf(e))).toEqual(['s1', 's1', 's1', 's1', 's1', null]);
  });

  it('follows the client and drops it when deleted, never holding a hash', () => {
    let row = clientsProjection.evolve(null, events[0]!);
    row = clientsProjection.evolve(row, events[1]!);
    expect(row).toMatchObject({ clientId: 's1', status: 'active', secretExpiresAt: null });
    row = clientsProjection.evolve(row, events[2]!);
    // Checklist CAUTH-16: the row shows the current secret's expiry (an expiry is no secret).
    expect(row).toMatchObject({ secretExpiresAt: '2030-04-01T00:00:00.000Z' });
    expect(JSON.stringify(row)).not.toMatch(/hhhh|gggg|ffff/);
    row = clientsProjection.evolve(row, events[3]!);
    expect(row?.status).toBe('disabled');
    expect(row?.secretExpiresAt).toBe('2030-04-01T00:00:00.000Z');
    expect(clientsProjection.evolve(row, events[4]!)).toBeNull();
  });

  it('gives the row the decider state would give (same evolve)', () => {
    const state: ClientState = foldEvents(CLIENT_FOLD, events.slice(0, 4));
    const row = events
      .slice(0, 4)
      .reduce((r, e) => clientsProjection.evolve(r, e), null as ReturnType<typeof clientsProjection.evolve>);
    expect(row).toEqual(clientView(state));
  });
});

describe('initial access tokens (RFC 7591 §3, checklist decision 12)', () => {
  const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 3) }]);
  const fold = (events: NewEvent[], streamId: string) =>
    recordEvents(events, { streamId }).reduce(evolveInitialAccessToken, initialInitialAccessTokenState());

  it('names the stream by the token id and stores only an HMAC of the secret', () => {
    const { token, streamId, event } = createInitialAccessToken(now, {
      ttlSeconds: 3600,
      secretHashKeys: keys,
    });
    const [id, secret] = token.split('.');
    expect(streamId).toBe(`initial-access-token-${id}`);
    expect(JSON.stringify(event)).not.toContain(secret);
    expect(locateInitialAccessToken(token, keys)).toEqual({ streamId, secret });
  });

  it('finds a token made before ids existed by the HMAC of the whole token under the legacy pepper (p0)', () => {
    const withLegacy = new Keyset([...keys.keys, { kid: LEGACY_KID, key: Buffer.alloc(32, 4) }]);
    const located = locateInitialAccessToken('Zm9vYmFyYmF6cXV4cXV1eA', withLegacy)!;
    expect(located.streamId).toMatch(/^initial-access-token-[A-Za-z0-9_-]{43}$/);
    expect(located.streamId).not.toContain('Zm9vYmFyYmF6cXV4cXV1eA');
    expect(located.secret).toBeNull();
    // Once the legacy key is no longer accepted, such a token is not found at all.
    expect(locateInitialAccessToken('Zm9vYmFyYmF6cXV4cXV1eA', keys)).toBeNull();
  });

  it('a token made under the previous secret-hash key is used while that key is accepted, not after', () => {
    const { token, streamId, event } = createInitialAccessToken(now, {
      ttlSeconds: 3600,
      secretHashKeys: keys,
    });
    const state = fold([event], streamId);
    const rotated = new Keyset([{ kid: 'h2', key: Buffer.alloc(32, 5) }, ...keys.keys]);
    const presented = locateInitialAccessToken(token, rotated)!;
    expect(useInitialAccessToken(state, presented, rotated, 'c1', now).data.clientId).toBe('c1');
    const removed = new Keyset([{ kid: 'h2', key: Buffer.alloc(32, 5) }]);
    expect(() => useInitialAccessToken(state, presented, removed, 'c1', now)).toThrow(
      expect.objectContaining({ error: 'invalid_token' }),
    );
  });

  it('is valid until it expires, then invalid_token', () => {
    const { token, streamId, event } = createInitialAccessToken(now, {
      ttlSeconds: 3600,
      secretHashKeys: keys,
    });
    const state = fold([event], streamId);
    const presented = locateInitialAccessToken(token, keys)!;
    const use = (at: number) => () => useInitialAccessToken(state, presented, keys, 'c1', new Date(at));
    expect(use(now.getTime() + 3599_000)).not.toThrow();
    expect(use(now.getTime() + 3600_000)).toThrow(
      expect.objectContaining({ error: 'invalid_token', status: 401 }),
    );
    expect(() => useInitialAccessToken(initialInitialAccessTokenState(), presented, keys, 'c1', now)).toThrow(
      expect.objectContaining({ error: 'invalid_token' }),
    );
  });

  it('refuses a wrong secret, a revoked token and one past its uses', () => {
    const { token, streamId, event } = createInitialAccessToken(now, {
      ttlSeconds: 3600,
      maxUses: 1,
      secretHashKeys: keys,
    });
    const presented = locateInitialAccessToken(token, keys)!;
    const fresh = fold([event], streamId);
    expect(() => useInitialAccessToken(fresh, { secret: 'wrong' }, keys, 'c1', now)).toThrow(
      expect.objectContaining({ error: 'invalid_token' }),
    );
    const used = useInitialAccessToken(fresh, presented, keys, 'c1', now);
    expect(used.data).toMatchObject({ clientId: 'c1' });
    expect(() => useInitialAccessToken(fold([event, used], streamId), presented, keys, 'c2', now)).toThrow(
      expect.objectContaining({ error: 'invalid_token' }),
    );
    const revoked = revokeInitialAccessToken(fresh, now);
    expect(() =>
      useInitialAccessToken(fold([event, ...revoked], streamId), presented, keys, 'c2', now),
    ).toThrow(expect.objectContaining({ error: 'invalid_token' }));
  });

  it('refuses a lifetime of 0 or over a year, and a use limit under 1', () => {
    for (const options of [{ ttlSeconds: 0 }, { ttlSeconds: 366 * 86400 }, { ttlSeconds: 60, maxUses: 0 }])
      expect(() => createInitialAccessToken(now, { ...options, secretHashKeys: keys })).toThrow(
        expect.objectContaining({ error: 'invalid_request' }),
      );
  });
});
