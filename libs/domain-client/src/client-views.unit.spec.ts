import { Keyset } from '#lib/keysets';
import { eventsOrThrow } from '#lib/decider';
import { type EventStore, foldEvents, InMemoryEventStore } from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';
import { type ClientCommand, clientStreamId, decideClient } from './client.js';
import { CLIENT_FOLD } from './client-state.js';
import { CLIENT_MOVED, ClientViews, onCurrentClient } from './client-views.js';
import { hashSecret } from './secret.js';

const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 5) }]);
const now = new Date('2030-01-01T00:00:00.000Z');

/** The in-memory store, counting the reads the views make. */
class CountingStore extends InMemoryEventStore {
  streamReads: string[] = [];
  versionReads = 0;

  override readStream(...args: Parameters<EventStore['readStream']>) {
    this.streamReads.push(args[0]);
    return super.readStream(...args);
  }

  override streamVersions(...args: Parameters<EventStore['streamVersions']>) {
    this.versionReads++;
    return super.streamVersions(...args);
  }
}

/** The owner's decision, appended (what the client registry does). */
async function run(store: EventStore, clientId: string, command: ClientCommand) {
  const events = await store.readStream(clientStreamId(clientId));
  const state = foldEvents(CLIENT_FOLD, events);
  await store.appendToStream(
    clientStreamId(clientId),
    events.length,
    eventsOrThrow(decideClient(command, state)),
  );
}

const register = (store: EventStore, clientId: string) =>
  run(store, clientId, {
    type: 'RegisterClient',
    origin: { kind: 'administrator', privilegedScopes: ['admin'] },
    clientId,
    clientName: `the ${clientId} app`,
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    scope: ['read'],
    defaultScope: [],
    audience: [],
    secretHash: hashSecret(`${clientId}-secret`, keys),
    now,
  });

describe('ClientViews: how a service that does not own client-* reads a client', () => {
  let store: CountingStore;
  let views: ClientViews;

  beforeEach(async () => {
    store = new CountingStore();
    await register(store, 'c1');
    store.streamReads = [];
    views = new ClientViews(store);
  });

  it('view(): the client as it is now, read once, then confirmed by one read of its version', async () => {
    expect(await views.view('c1')).toMatchObject({
      clientId: 'c1',
      clientName: 'the c1 app',
      status: 'active',
    });
    expect(store.streamReads).toEqual([clientStreamId('c1')]);
    store.streamReads = [];
    store.versionReads = 0;
    expect(await views.view('c1')).toMatchObject({ clientId: 'c1', scope: ['read'] });
    expect(store.versionReads).toBe(1);
    expect(store.streamReads).toEqual([]);
  });

  it('view(): a client changed by its owner a moment ago is seen changed at once', async () => {
    await views.view('c1');
    await run(store, 'c1', {
      type: 'GrantClientPrivilege',
      scope: 'admin',
      privilegedScopes: ['admin'],
      now,
    });
    expect((await views.view('c1'))!.scope).toEqual(['read', 'admin']);
    await run(store, 'c1', { type: 'DisableClient', now });
    expect((await views.view('c1'))!.status).toBe('disabled');
    await register(store, 'c2');
    expect((await views.view('c2'))!.status).toBe('active');
    await run(store, 'c2', { type: 'DeleteClient', now });
    // A deleted client is no client (the registry answered not_found).
    expect(await views.view('c2')).toBeNull();
  });

  it('view(): null for a client_id no event names, which is not held', async () => {
    expect(await views.view('nobody')).toBeNull();
    expect(views.size).toBe(0);
  });

  it('moved(): whether the stream left the version a decision was taken on; a moved client is read again', async () => {
    await views.view('c1');
    expect(await views.moved('c1', 1)).toBe(false);
    await run(store, 'c1', { type: 'DisableClient', now });
    store.streamReads = [];
    expect(await views.moved('c1', 1)).toBe(true);
    expect(store.streamReads).toEqual([clientStreamId('c1')]);
    // Read again by the confirmation: the next decision needs no read of the stream.
    store.streamReads = [];
    expect((await views.view('c1'))!.status).toBe('disabled');
    expect(store.streamReads).toEqual([]);
  });
});

describe('onCurrentClient: the one re-check loop of the freshness rule', () => {
  it('a decision confirmed at once stands', async () => {
    const rounds: number[] = [];
    const result = await onCurrentClient(async (round) => {
      rounds.push(round);
      return 'decided';
    });
    expect(result).toBe('decided');
    expect(rounds).toEqual([1]);
  });

  it('a decision on a client that moved is taken once more, on the client as it is now', async () => {
    const rounds: number[] = [];
    const result = await onCurrentClient(async (round) => {
      rounds.push(round);
      return round === 1 ? CLIENT_MOVED : 'decided again';
    });
    expect(result).toBe('decided again');
    expect(rounds).toEqual([1, 2]);
  });

  it('a client that moves under both decisions: temporarily_unavailable, never a third decision', async () => {
    let rounds = 0;
    const err = await onCurrentClient(async () => {
      rounds++;
      return CLIENT_MOVED;
    }, 'the calling client').catch((e: unknown) => e);
    expect(rounds).toBe(2);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({ error: 'temporarily_unavailable' });
    expect((err as OAuthError).detail).toContain('the calling client changed');
  });

  it('a refusal is not retried: it leaves as it was thrown', async () => {
    let rounds = 0;
    const refusal = new OAuthError('invalid_scope', 'not registered for that scope');
    await expect(
      onCurrentClient(async () => {
        rounds++;
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(rounds).toBe(1);
  });
});
