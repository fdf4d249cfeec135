import {
  type ClientCommand,
  clientStreamId,
  createInitialAccessToken,
  decideClient,
  CLIENT_FOLD,
  hashSecret,
  revokeInitialAccessToken,
  evolveInitialAccessToken,
  initialInitialAccessTokenState,
} from '#lib/domain-client';
import {
  decideGrant,
  grantStreamId,
  hashGrantToken,
  initialGrantState,
  mintGrantToken,
  newGrantId,
} from '#lib/domain-grant';
import { type EventStore, InMemoryEventStore, foldEvents } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { Keyset, LEGACY_KID } from '#lib/keysets';
import { formatHashKeyUsage, hashKeyUsage } from './hash-keys.command.js';

const h1 = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 1) }]);
const h2 = new Keyset([{ kid: 'h2', key: Buffer.alloc(32, 2) }, ...h1.keys]);
const legacy = new Keyset([{ kid: LEGACY_KID, key: Buffer.alloc(32, 9) }]);
const now = new Date('2030-01-01T00:00:00.000Z');

async function run(store: EventStore, clientId: string, command: ClientCommand) {
  const events = await store.readStream(clientStreamId(clientId));
  const state = foldEvents(CLIENT_FOLD, events);
  await store.appendToStream(
    clientStreamId(clientId),
    events.length,
    eventsOrThrow(decideClient(command, state)),
  );
}

const register = (store: EventStore, clientId: string, keys: Keyset) =>
  run(store, clientId, {
    type: 'RegisterClient',
    origin: { kind: 'administrator', privilegedScopes: ['admin'] },
    clientId,
    clientName: clientId,
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    scope: ['read'],
    defaultScope: [],
    audience: [],
    secretHash: hashSecret(`${clientId}-secret`, keys),
    registrationAccessTokenHash: hashSecret(`${clientId}-rat`, keys),
    now,
  });

async function issueCode(store: EventStore, keys: Keyset, at: Date) {
  const grantId = newGrantId();
  const { events } = decideGrant(
    {
      type: 'IssueAuthorizationCode',
      grantId,
      clientId: 'c',
      sub: 's',
      scope: ['read'],
      redirectUri: 'https://c.test/cb',
      deliveredTo: 'https://c.test/cb',
      codeChallenge: null,
      codeHash: hashGrantToken(mintGrantToken(grantId), keys),
      authTime: Math.floor(at.getTime() / 1000),
      now: at,
      ttlSeconds: 60,
    },
    initialGrantState(),
  );
  await store.appendToStream(grantStreamId(grantId), 0, events);
}

describe('audit hash-keys: what each secret-hash key id still protects', () => {
  it('names, per key id, the clients, initial access tokens and newest code still stored under it', async () => {
    const store = new InMemoryEventStore();
    await register(store, 'old', h1);
    await register(store, 'rotated', h1);
    await register(store, 'gone', h1);
    await register(store, 'new', h2);
    await register(store, 'ancient', legacy);
    // Rotated under h2 with a grace: the previous secret (h1) counts until its grace ends.
    await run(store, 'rotated', {
      type: 'RotateClientSecret',
      secretHash: hashSecret('rotated-2', h2),
      graceSeconds: 3600,
      now,
    });
    await run(store, 'gone', { type: 'DeleteClient', now });
    const live = createInitialAccessToken(now, { ttlSeconds: 3600, secretHashKeys: h1 });
    await store.appendToStream(live.streamId, 0, [live.event]);
    const revoked = createInitialAccessToken(now, { ttlSeconds: 3600, secretHashKeys: h1 });
    const state = evolveInitialAccessToken(initialInitialAccessTokenState(), {
      ...revoked.event,
      streamId: revoked.streamId,
    } as never);
    await store.appendToStream(revoked.streamId, 0, [revoked.event, ...revokeInitialAccessToken(state, now)]);
    await issueCode(store, h1, new Date('2029-12-01T00:00:00.000Z'));
    await issueCode(store, h1, new Date('2029-12-15T00:00:00.000Z'));
    await issueCode(store, h2, now);

    const usage = await hashKeyUsage(store, new Date(now.getTime() + 60_000));
    expect(usage).toEqual([
      {
        kid: 'h1',
        clientSecrets: ['old'],
        previousSecrets: ['rotated'],
        registrationAccessTokens: ['old', 'rotated'],
        initialAccessTokens: [live.streamId.slice('initial-access-token-'.length)],
        newestCodeIssuedAt: '2029-12-15T00:00:00.000Z',
      },
      {
        kid: 'h2',
        clientSecrets: ['new', 'rotated'],
        previousSecrets: [],
        registrationAccessTokens: ['new'],
        initialAccessTokens: [],
        newestCodeIssuedAt: now.toISOString(),
      },
      {
        kid: 'p0',
        clientSecrets: ['ancient'],
        previousSecrets: [],
        registrationAccessTokens: ['ancient'],
        initialAccessTokens: [],
        newestCodeIssuedAt: null,
      },
    ]);
    // Past the grace and the token's expiry, only what cannot expire on its own is left under h1.
    const later = await hashKeyUsage(store, new Date(now.getTime() + 7200_000));
    expect(later.find((u) => u.kid === 'h1')).toMatchObject({ previousSecrets: [], initialAccessTokens: [] });
    expect(formatHashKeyUsage(usage)).toContain('p0 (the legacy SECRET_PEPPER)');
    expect(formatHashKeyUsage(usage)).toContain('client secrets:             1 (old)');
  });

  it('an empty log names no key', async () => {
    expect(formatHashKeyUsage(await hashKeyUsage(new InMemoryEventStore(), now))).toBe(
      'no stored secret or code names a key',
    );
  });
});
