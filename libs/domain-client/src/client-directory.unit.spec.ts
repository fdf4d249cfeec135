import { Keyset } from '#lib/keysets';
import type { PresentedClientCredentials } from '#lib/contracts';
import { type EventStore, foldEvents, InMemoryEventStore, isExpectedVersionConflict } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { OAuthError } from '#lib/oauth-errors';
import { ClientDirectory, type ClientDirectoryOptions } from './client-directory.js';
import { clientUnchanged } from './client-views.js';
import { type ClientCommand, clientStreamId, decideClient as decideClientDecision } from './client.js';
import { CLIENT_FOLD } from './client-state.js';
import { hashSecret } from './secret.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideClient = (...args: Parameters<typeof decideClientDecision>) =>
  eventsOrThrow(decideClientDecision(...args));

const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 5) }]);
const now = new Date('2030-01-01T00:00:00.000Z');
/** The caller's address as the gateway saw it. */
const ADDRESS = '192.0.2.1';

/** The in-memory store, counting the reads the directory makes. */
class CountingStore extends InMemoryEventStore {
  streamReads: { streamId: string; orElse?: string }[] = [];
  versionReads = 0;

  override readStream(...args: Parameters<EventStore['readStream']>) {
    this.streamReads.push({ streamId: args[0], orElse: args[1]?.orElse });
    return super.readStream(...args);
  }

  override streamVersions(...args: Parameters<EventStore['streamVersions']>) {
    this.versionReads++;
    return super.streamVersions(...args);
  }
}

async function run(store: EventStore, clientId: string, command: ClientCommand) {
  const events = await store.readStream(clientStreamId(clientId));
  const state = foldEvents(CLIENT_FOLD, events);
  await store.appendToStream(clientStreamId(clientId), events.length, decideClient(command, state));
}

const register = (store: EventStore, clientId: string, secret = `${clientId}-secret`) =>
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
    secretHash: hashSecret(secret, keys),
    now,
  });

const basic = (clientId: string, clientSecret = `${clientId}-secret`): PresentedClientCredentials => ({
  method: 'client_secret_basic',
  clientId,
  clientSecret,
});

async function failure(promise: Promise<unknown>): Promise<OAuthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  return err as OAuthError;
}

describe('ClientDirectory: client authentication from held clients (RFC 6749 §2.3.1)', () => {
  let store: CountingStore;
  let directory: ClientDirectory;
  const make = (options: Partial<ClientDirectoryOptions> = {}) =>
    new ClientDirectory(store, {
      secretHashKeys: keys,
      throttle: { maxFailures: 1000, windowSeconds: 60 },
      clock: () => now,
      ...options,
    });

  beforeEach(async () => {
    store = new CountingStore();
    await register(store, 'c1');
    store.streamReads = [];
    directory = make();
  });

  it('reads a client once, then authenticates it from what it holds, with the stream version', async () => {
    const first = await directory.authenticate(basic('c1'), ADDRESS);
    expect(first).toMatchObject({ client: { clientId: 'c1', status: 'active' }, version: 1 });
    expect(store.streamReads).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect((await directory.authenticate(basic('c1'), ADDRESS)).version).toBe(1);
    expect(store.streamReads).toHaveLength(1);
    expect(directory.size).toBe(1);
  });

  it('never refuses on what it holds: a secret rotated a moment ago works at once (decision 15)', async () => {
    await directory.authenticate(basic('c1'), ADDRESS);
    await run(store, 'c1', { type: 'RotateClientSecret', secretHash: hashSecret('new', keys), now });
    store.streamReads = [];
    const fresh = await directory.authenticate(basic('c1', 'new'), ADDRESS);
    expect(fresh).toMatchObject({ client: { clientId: 'c1' }, version: 2 });
    expect(store.streamReads).toHaveLength(1);
  });

  it('a success on a held client is only as good as its version: a precondition on it refuses the append', async () => {
    const held = await directory.authenticate(basic('c1'), ADDRESS);
    await run(store, 'c1', { type: 'RotateClientSecret', secretHash: hashSecret('new', keys), now });
    // The old secret still matches what is held; the caller's append proves it stale.
    const stale = await directory.authenticate(basic('c1'), ADDRESS);
    expect(stale.version).toBe(held.version);
    const err = await store
      .appendMany([{ streamId: 'token-x', expectedVersion: 0, events: [{ type: 'Issued', data: {} }] }], {
        expect: [clientUnchanged('c1', stale.version)],
      })
      .catch((e: unknown) => e);
    expect(isExpectedVersionConflict(err)).toBe(true);
    expect(err).toMatchObject({ streamId: clientStreamId('c1') });
    await directory.reload('c1');
    const refused = await failure(directory.authenticate(basic('c1'), ADDRESS));
    expect(refused.error).toBe('invalid_client');
  });

  it('a wrong secret on a held client is decided on a fresh read, and refused', async () => {
    await directory.authenticate(basic('c1'), ADDRESS);
    const err = await failure(directory.authenticate(basic('c1', 'wrong'), ADDRESS));
    expect(err).toMatchObject({ error: 'invalid_client', description: 'client authentication failed' });
    expect(store.streamReads).toHaveLength(2);
  });

  it('an unknown client costs the same read, of a known client as a decoy, and is not held (CAUTH-20)', async () => {
    await directory.authenticate(basic('c1'), ADDRESS);
    const known = await failure(directory.authenticate(basic('c1', 'wrong'), ADDRESS));
    const unknown = await failure(directory.authenticate(basic('nobody', 'wrong'), ADDRESS));
    expect(unknown.error).toBe(known.error);
    expect(unknown.description).toBe(known.description);
    expect(store.streamReads.slice(1)).toEqual([
      { streamId: clientStreamId('c1'), orElse: clientStreamId('c1') },
      { streamId: clientStreamId('nobody'), orElse: clientStreamId('c1') },
    ]);
    expect(directory.size).toBe(1);
  });

  it('a client disabled or deleted a moment ago is refused, held as active or not', async () => {
    await register(store, 'c2');
    await directory.authenticate(basic('c1'), ADDRESS);
    await directory.authenticate(basic('c2'), ADDRESS);
    await run(store, 'c1', { type: 'DisableClient', now });
    await run(store, 'c2', { type: 'DeleteClient', now });
    // Held as active, the secret matches: the version exposes the change (see the precondition above).
    const current = await directory.current(['c1', 'c2']);
    expect(current.get('c1')).toMatchObject({ state: { status: 'disabled' }, version: 2 });
    expect(current.get('c2')).toMatchObject({ state: { status: 'deleted' }, version: 2 });
    expect((await failure(directory.authenticate(basic('c1'), ADDRESS))).error).toBe('invalid_client');
    expect((await failure(directory.authenticate(basic('c2'), ADDRESS))).error).toBe('invalid_client');
  });

  it('current(): one read of versions; only clients whose stream moved are read again', async () => {
    await register(store, 'c2');
    await directory.authenticate(basic('c1'), ADDRESS);
    await directory.authenticate(basic('c2'), ADDRESS);
    store.streamReads = [];
    const unchanged = await directory.current(['c1', 'c2']);
    expect(store.versionReads).toBe(1);
    expect(store.streamReads).toEqual([]);
    expect([unchanged.get('c1')!.version, unchanged.get('c2')!.version]).toEqual([1, 1]);

    await run(store, 'c2', { type: 'DisableClient', now });
    store.streamReads = [];
    const moved = await directory.current(['c1', 'c2', 'nobody']);
    expect(store.versionReads).toBe(2);
    expect(store.streamReads.map((r) => r.streamId)).toEqual([clientStreamId('c2')]);
    expect(moved.get('c2')).toMatchObject({ state: { status: 'disabled' }, version: 2 });
    expect(moved.get('nobody')).toEqual({ state: { status: 'unregistered' }, version: 0 });
    expect(directory.size).toBe(2);
  });

  it('currentAt(): versions read elsewhere; a moved client is read again, a missing version refused', async () => {
    await register(store, 'c2');
    await directory.authenticate(basic('c1'), ADDRESS);
    await directory.authenticate(basic('c2'), ADDRESS);
    await run(store, 'c2', { type: 'DisableClient', now });
    store.streamReads = [];
    const versions = await store.streamVersions([clientStreamId('c1'), clientStreamId('c2')]);
    const reads = store.versionReads;
    const current = await directory.currentAt(['c1', 'c2'], versions);
    expect(store.versionReads).toBe(reads);
    expect(store.streamReads.map((r) => r.streamId)).toEqual([clientStreamId('c2')]);
    expect(current.get('c1')).toMatchObject({ state: { status: 'active' }, version: 1 });
    expect(current.get('c2')).toMatchObject({ state: { status: 'disabled' }, version: 2 });
    await expect(directory.currentAt(['c1', 'c3'], versions)).rejects.toThrow(/missing/);
  });

  it('holds at most `capacity` clients, the least recently used leaving first', async () => {
    directory = make({ capacity: 3 });
    for (const id of ['a', 'b', 'c', 'd']) await register(store, id);
    for (const id of ['a', 'b', 'c']) await directory.authenticate(basic(id), ADDRESS);
    await directory.authenticate(basic('a'), ADDRESS);
    await directory.authenticate(basic('d'), ADDRESS);
    expect(directory.size).toBe(3);
    store.streamReads = [];
    for (const id of ['a', 'c', 'd']) await directory.authenticate(basic(id), ADDRESS);
    expect(store.streamReads).toEqual([]);
    await directory.authenticate(basic('b'), ADDRESS);
    expect(store.streamReads.map((r) => r.streamId)).toEqual([clientStreamId('b')]);
    expect(directory.size).toBe(3);
  });

  it('throttles per source address, never per client_id: the right secret from another address is accepted (CAUTH-19, decision 13)', async () => {
    directory = make({ throttle: { maxFailures: 3, windowSeconds: 60 } });
    await register(store, 'c2');
    for (let i = 0; i < 3; i++) await failure(directory.authenticate(basic('c1', `wrong-${i}`), ADDRESS));
    const limited = await failure(directory.authenticate(basic('c1'), ADDRESS));
    expect(limited).toMatchObject({ error: 'invalid_client', status: 429 });
    expect(Number(limited.headers['Retry-After'])).toBeGreaterThan(0);
    // The address is limited whichever client it names.
    expect(await failure(directory.authenticate(basic('c2'), ADDRESS))).toMatchObject({ status: 429 });
    // Another address, or the same IPv6 subscriber's neighbour prefix, is not.
    expect((await directory.authenticate(basic('c1'), '192.0.2.2')).client.clientId).toBe('c1');
    for (let i = 0; i < 3; i++)
      await failure(directory.authenticate(basic('c2', `wrong-${i}`), '2001:db8:0:1::1'));
    expect(await failure(directory.authenticate(basic('c2'), '2001:db8:0:1::2'))).toMatchObject({
      status: 429,
    });
    expect((await directory.authenticate(basic('c2'), '2001:db8:0:2::1')).client.clientId).toBe('c2');
  });

  it('refuses an overlong client_id without a read (CAUTH-03)', async () => {
    const err = await failure(directory.authenticate(basic('x'.repeat(257)), ADDRESS));
    expect(err.error).toBe('invalid_client');
    expect(store.streamReads).toEqual([]);
  });
});
