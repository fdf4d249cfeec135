import { randomUUID } from 'node:crypto';
import {
  aggregateStream,
  type AggregateFold,
  ExpectedVersionConflict,
  loadAggregate,
  InvalidEventData,
  UnstorableText,
  type EventStore,
  type NewEvent,
} from '../event-store.js';

/**
 * The EventStore contract (see the port's doc comment in event-store.ts), run against every
 * implementation (STYLE.md habit 8). `factory` is called before each test; implementations may share
 * state between tests (one database per file), so every test uses fresh stream ids and reads the log
 * only after the head it saw at its start.
 */
export function describeEventStoreContract(
  name: string,
  factory: () => EventStore | Promise<EventStore>,
): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let stream: (category?: string) => string;

    beforeEach(async () => {
      store = await factory();
      stream = (category = 'test') => `${category}-${randomUUID()}`;
    });

    const ev = (type: string, data: unknown = {}, extra: Partial<NewEvent> = {}): NewEvent => ({
      type,
      data,
      ...extra,
    });

    async function expectConflict(promise: Promise<unknown>, streamId: string, expected: number | 'any') {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExpectedVersionConflict);
      expect(err).toMatchObject({ name: 'ExpectedVersionConflict', streamId, expectedVersion: expected });
    }

    describe('snapshots and history probes', () => {
      const sum = (
        schema: string,
        snapshotEvery: number,
      ): AggregateFold<{ total: number; seen: number }> => ({
        schema,
        snapshotEvery,
        initial: () => ({ total: 0, seen: 0 }),
        evolve: (s, e) => ({ total: s.total + (e.data as { n: number }).n, seen: s.seen + 1 }),
      });

      it('loads a stream from its snapshot and the events after it, keeping a new one when the tail is long', async () => {
        const id = stream();
        await store.appendToStream(
          id,
          0,
          [1, 2, 3, 4, 5].map((n) => ev('Add', { n })),
        );
        const first = await loadAggregate(store, id, sum('sum/1', 3));
        expect(first).toEqual({ state: { total: 15, seen: 5 }, version: 5, snapshotVersion: 5 });
        expect(await store.readSnapshot(id, 'sum/1')).toEqual({
          streamId: id,
          schema: 'sum/1',
          version: 5,
          state: { total: 15, seen: 5 },
        });
        await store.appendToStream(id, 5, [ev('Add', { n: 10 })]);
        // The snapshot stands for events 1..5: were they replayed, `seen` would count them again.
        expect(await loadAggregate(store, id, sum('sum/1', 3))).toEqual({
          state: { total: 25, seen: 6 },
          version: 6,
          snapshotVersion: 5,
        });
      });

      it('ignores a snapshot of another schema, and never goes back to an older version', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('Add', { n: 1 }), ev('Add', { n: 2 })]);
        await store.saveSnapshot({
          streamId: id,
          schema: 'sum/0',
          version: 2,
          state: { total: 999, seen: 2 },
        });
        expect((await loadAggregate(store, id, sum('sum/1', 100))).state).toEqual({ total: 3, seen: 2 });
        await store.saveSnapshot({ streamId: id, schema: 'sum/1', version: 2, state: { total: 3, seen: 2 } });
        await store.saveSnapshot({ streamId: id, schema: 'sum/1', version: 1, state: { total: 1, seen: 1 } });
        expect(await store.readSnapshot(id, 'sum/1')).toMatchObject({ version: 2, state: { total: 3 } });
        expect(await store.readSnapshot(stream(), 'sum/1')).toBeNull();
      });

      it('answers whether a stream holds an event of given types with a given field value', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [
          ev('RefreshTokenIssued', { tokenHash: 'h1' }),
          ev('RefreshTokenRotated', { tokenHash: 'h2', previousHash: 'h1' }),
          ev('Other', { tokenHash: 'h3' }),
        ]);
        const probe = (equals: string, streamId = id) =>
          store.streamHasEvent(streamId, {
            types: ['RefreshTokenIssued', 'RefreshTokenRotated'],
            field: 'tokenHash',
            equals,
          });
        expect(await probe('h1')).toBe(true);
        expect(await probe('h2')).toBe(true);
        expect(await probe('h3')).toBe(false);
        expect(await probe('h1', stream())).toBe(false);
      });
    });

    describe('append and read', () => {
      it('numbers a new stream 1, 2, 3 and reads it back in order', async () => {
        const id = stream();
        const result = await store.appendToStream(id, 0, [
          ev('A', { n: 1 }),
          ev('B', { n: 2 }),
          ev('C', { n: 3 }),
        ]);

        expect(result.streamId).toBe(id);
        expect(result.nextExpectedVersion).toBe(3);
        expect(result.events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
        expect(result.lastGlobalPosition).toBe(result.events[2]!.globalPosition);

        const read = await store.readStream(id);
        expect(read).toEqual(result.events);
        expect(read.map((e) => [e.type, e.data])).toEqual([
          ['A', { n: 1 }],
          ['B', { n: 2 }],
          ['C', { n: 3 }],
        ]);
        expect(read.every((e) => e.recordedAt instanceof Date)).toBe(true);
        expect(new Set(read.map((e) => e.eventId)).size).toBe(3);
        for (const e of read)
          // RFC 9562 §5.7: version 7, time-ordered (the stores write new ids at the right of their index).
          expect(e.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      });

      it('gives events of one append consecutive versions and increasing global positions', async () => {
        const id = stream();
        const { events } = await store.appendToStream(id, 0, [ev('A'), ev('B')]);
        expect(events[1]!.globalPosition).toBeGreaterThan(events[0]!.globalPosition);
      });

      it('continues a stream from the version the caller last saw', async () => {
        const id = stream();
        const first = await store.appendToStream(id, 0, [ev('A'), ev('B')]);
        const second = await store.appendToStream(id, first.nextExpectedVersion, [ev('C')]);
        expect(second.nextExpectedVersion).toBe(3);
        expect(second.events[0]!.streamVersion).toBe(3);
        expect(second.lastGlobalPosition).toBeGreaterThan(first.lastGlobalPosition);
        expect((await store.readStream(id)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      it('reads an unknown stream as empty', async () => {
        expect(await store.readStream(stream())).toEqual([]);
      });

      it('reads a decoy stream (orElse) only when the stream has no event', async () => {
        const present = stream();
        const decoy = stream();
        await store.appendToStream(present, 0, [ev('A'), ev('B')]);
        await store.appendToStream(decoy, 0, [ev('D')]);
        const own = await store.readStream(present, { orElse: decoy });
        expect(own.map((e) => [e.streamId, e.type])).toEqual([
          [present, 'A'],
          [present, 'B'],
        ]);
        const instead = await store.readStream(stream(), { orElse: decoy });
        expect(instead.map((e) => [e.streamId, e.type])).toEqual([[decoy, 'D']]);
        expect(await store.readStream(stream(), { orElse: stream() })).toEqual([]);
        expect(
          (await store.readStream(present, { orElse: decoy, fromVersion: 2 })).map((e) => e.type),
        ).toEqual(['B']);
      });

      it('reads from a version on', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A'), ev('B'), ev('C'), ev('D')]);
        const read = await store.readStream(id, { fromVersion: 3 });
        expect(read.map((e) => [e.streamVersion, e.type])).toEqual([
          [3, 'C'],
          [4, 'D'],
        ]);
      });

      it('round-trips metadata and schemaVersion, defaulting to {} and 1', async () => {
        const id = stream();
        const metadata = { correlationId: 'corr-1', causationId: 'cmd-1', actor: 'client:abc' };
        await store.appendToStream(id, 0, [
          ev(
            'A',
            { nested: { list: [1, 'two', null, true] }, text: 'é ✓ 𝄞' },
            { metadata, schemaVersion: 3 },
          ),
          ev('B', null),
        ]);
        const [a, b] = await store.readStream(id);
        expect(a).toMatchObject({
          type: 'A',
          schemaVersion: 3,
          metadata,
          data: { nested: { list: [1, 'two', null, true] }, text: 'é ✓ 𝄞' },
        });
        expect(b).toMatchObject({ type: 'B', schemaVersion: 1, metadata: {}, data: null });
      });

      it('stores data as JSON: what is read back is the JSON form', async () => {
        const id = stream();
        const at = new Date('2025-01-02T03:04:05.678Z');
        await store.appendToStream(id, 0, [ev('A', { at, skip: undefined })]);
        const [a] = await store.readStream(id);
        expect(a!.data).toEqual({ at: '2025-01-02T03:04:05.678Z' });
      });

      it('hands out copies: changing what was read changes nothing stored', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A', { n: 1 }, { metadata: { actor: 'admin' } })]);
        const [a] = await store.readStream(id);
        (a!.data as { n: number }).n = 2;
        a!.metadata.actor = 'someone';
        const [again] = await store.readStream(id);
        expect(again!.data).toEqual({ n: 1 });
        expect(again!.metadata).toEqual({ actor: 'admin' });
      });

      it('folds a stream with aggregateStream and reports its version', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('Add', { n: 2 }), ev('Add', { n: 5 })]);
        const { state, version } = await aggregateStream(store, id, {
          evolve: (sum: number, e) => sum + (e.data as { n: number }).n,
          initial: () => 0,
        });
        expect({ state, version }).toEqual({ state: 7, version: 2 });
        expect(
          await aggregateStream(store, stream(), { evolve: (s: number) => s, initial: () => 0 }),
        ).toEqual({ state: 0, version: 0 });
      });
    });

    describe('optimistic concurrency (STYLE.md habit 4)', () => {
      it('refuses a stale expected version and writes nothing', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A'), ev('B')]);
        await expectConflict(store.appendToStream(id, 1, [ev('Late')]), id, 1);
        const read = await store.readStream(id);
        expect(read.map((e) => e.type)).toEqual(['A', 'B']);
      });

      it('reports the version it found', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A'), ev('B')]);
        const err = await store.appendToStream(id, 1, [ev('Late')]).catch((e: unknown) => e);
        expect(err).toMatchObject({ actualVersion: 2 });
        expect(String((err as Error).message)).toContain(id);
      });

      it('refuses expected version 0 on a stream that exists', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A')]);
        await expectConflict(store.appendToStream(id, 0, [ev('Again')]), id, 0);
        expect(await store.readStream(id)).toHaveLength(1);
      });

      it('refuses an expected version beyond the end of the stream', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A')]);
        await expectConflict(store.appendToStream(id, 5, [ev('Far')]), id, 5);
        await expectConflict(store.appendToStream(id, 2, [ev('Next')]), id, 2);
        const fresh = stream();
        await expectConflict(store.appendToStream(fresh, 3, [ev('Ghost')]), fresh, 3);
        expect(await store.readStream(id)).toHaveLength(1);
        expect(await store.readStream(fresh)).toEqual([]);
      });

      it("appends with 'any' at the end, whether the stream exists or not", async () => {
        const id = stream();
        const first = await store.appendToStream(id, 'any', [ev('A')]);
        expect(first.nextExpectedVersion).toBe(1);
        const second = await store.appendToStream(id, 'any', [ev('B'), ev('C')]);
        expect(second.events.map((e) => e.streamVersion)).toEqual([2, 3]);
        expect(second.nextExpectedVersion).toBe(3);
      });

      it('lets exactly one of two appends at the same expected version win', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A')]);
        const outcomes = await Promise.allSettled([
          store.appendToStream(id, 1, [ev('X')]),
          store.appendToStream(id, 1, [ev('Y')]),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toBeInstanceOf(ExpectedVersionConflict);
        expect(await store.readStream(id)).toHaveLength(2);
      });
    });

    describe('appendMany', () => {
      it('writes every request and returns one result per request', async () => {
        const a = stream();
        const b = stream();
        await store.appendToStream(b, 0, [ev('B1')]);
        const results = await store.appendMany([
          { streamId: a, expectedVersion: 0, events: [ev('A1'), ev('A2')] },
          { streamId: b, expectedVersion: 1, events: [ev('B2')] },
        ]);
        expect(results.map((r) => [r.streamId, r.nextExpectedVersion])).toEqual([
          [a, 2],
          [b, 2],
        ]);
        expect(results[1]!.lastGlobalPosition).toBeGreaterThan(results[0]!.lastGlobalPosition);
        expect((await store.readStream(a)).map((e) => e.type)).toEqual(['A1', 'A2']);
        expect((await store.readStream(b)).map((e) => e.type)).toEqual(['B1', 'B2']);
      });

      it('writes nothing when one request conflicts', async () => {
        const a = stream();
        const b = stream();
        await store.appendToStream(b, 0, [ev('B1')]);
        const head = await store.headPosition();
        await expectConflict(
          store.appendMany([
            { streamId: a, expectedVersion: 0, events: [ev('A1')] },
            { streamId: b, expectedVersion: 0, events: [ev('B2')] },
          ]),
          b,
          0,
        );
        expect(await store.readStream(a)).toEqual([]);
        expect((await store.readStream(b)).map((e) => e.type)).toEqual(['B1']);
        expect(await store.readAll(head, 10)).toEqual([]);
      });

      it('applies requests to one stream in order', async () => {
        const a = stream();
        const results = await store.appendMany([
          { streamId: a, expectedVersion: 0, events: [ev('A1')] },
          { streamId: a, expectedVersion: 1, events: [ev('A2')] },
          { streamId: a, expectedVersion: 'any', events: [ev('A3')] },
        ]);
        expect(results.map((r) => r.nextExpectedVersion)).toEqual([1, 2, 3]);
        await expectConflict(
          store.appendMany([
            { streamId: a, expectedVersion: 3, events: [ev('A4')] },
            { streamId: a, expectedVersion: 3, events: [ev('A4 again')] },
          ]),
          a,
          3,
        );
        expect(await store.readStream(a)).toHaveLength(3);
      });

      it('returns nothing for no requests', async () => {
        expect(await store.appendMany([])).toEqual([]);
      });
    });

    describe('appendMany preconditions (expect)', () => {
      it('writes when every expected stream is at its version, absent streams at 0', async () => {
        const client = stream('client');
        const token = stream('token');
        await store.appendToStream(client, 0, [ev('Registered'), ev('Updated')]);
        const [result] = await store.appendMany(
          [{ streamId: token, expectedVersion: 0, events: [ev('Issued')] }],
          {
            expect: [
              { streamId: client, version: 2 },
              { streamId: stream('never'), version: 0 },
            ],
          },
        );
        expect(result!.nextExpectedVersion).toBe(1);
        expect((await store.readStream(token)).map((e) => e.type)).toEqual(['Issued']);
        expect(await store.readStream(client)).toHaveLength(2);
      });

      it('refuses with ExpectedVersionConflict on the expected stream and writes nothing', async () => {
        const client = stream('client');
        const token = stream('token');
        const other = stream('grant');
        await store.appendToStream(client, 0, [ev('Registered')]);
        await store.appendToStream(client, 1, [ev('SecretRotated')]);
        const head = await store.headPosition();
        const err = await store
          .appendMany(
            [
              { streamId: other, expectedVersion: 0, events: [ev('Used')] },
              { streamId: token, expectedVersion: 0, events: [ev('Issued')] },
            ],
            { expect: [{ streamId: client, version: 1 }] },
          )
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ExpectedVersionConflict);
        expect(err).toMatchObject({ streamId: client, expectedVersion: 1, actualVersion: 2 });
        expect(await store.readStream(token)).toEqual([]);
        expect(await store.readStream(other)).toEqual([]);
        expect(await store.readAll(head, 10)).toEqual([]);
        const never = stream('never');
        await expectConflict(
          store.appendMany([{ streamId: token, expectedVersion: 0, events: [ev('Issued')] }], {
            expect: [{ streamId: never, version: 1 }],
          }),
          never,
          1,
        );
        expect(await store.readStream(token)).toEqual([]);
      });

      it('fails alone in a batch: concurrent appends around it are written', async () => {
        const client = stream('client');
        await store.appendToStream(client, 0, [ev('Registered'), ev('Disabled')]);
        const before = stream('token');
        const refused = stream('token');
        const passing = stream('token');
        const after = stream('token');
        const outcomes = await Promise.allSettled([
          store.appendToStream(before, 0, [ev('Issued')]),
          store.appendMany([{ streamId: refused, expectedVersion: 0, events: [ev('Issued')] }], {
            expect: [{ streamId: client, version: 1 }],
          }),
          store.appendMany([{ streamId: passing, expectedVersion: 0, events: [ev('Issued')] }], {
            expect: [{ streamId: client, version: 2 }],
          }),
          store.appendMany([{ streamId: after, expectedVersion: 0, events: [ev('Issued')] }]),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
          name: 'ExpectedVersionConflict',
          streamId: client,
          expectedVersion: 1,
          actualVersion: 2,
        });
        for (const written of [before, passing, after])
          expect(await store.readStream(written)).toHaveLength(1);
        expect(await store.readStream(refused)).toEqual([]);
        expect(await store.readStream(client)).toHaveLength(2);
      });

      it('checks in queue order: an append just before, in the same batch, moves the expected stream', async () => {
        const client = stream('client');
        await store.appendToStream(client, 0, [ev('Registered')]);
        const stale = stream('token');
        const fresh = stream('token');
        const outcomes = await Promise.allSettled([
          store.appendToStream(client, 1, [ev('SecretRotated')]),
          store.appendMany([{ streamId: stale, expectedVersion: 0, events: [ev('Issued')] }], {
            expect: [{ streamId: client, version: 1 }],
          }),
          store.appendMany([{ streamId: fresh, expectedVersion: 0, events: [ev('Issued')] }], {
            expect: [{ streamId: client, version: 2 }],
          }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(await store.readStream(stale)).toEqual([]);
        expect(await store.readStream(fresh)).toHaveLength(1);
      });

      it('refuses a malformed precondition with InvalidEventData', async () => {
        await expect(
          store.appendMany([{ streamId: stream(), expectedVersion: 0, events: [ev('A')] }], {
            expect: [{ streamId: stream(), version: -1 }],
          }),
        ).rejects.toBeInstanceOf(InvalidEventData);
      });
    });

    describe('streamVersions', () => {
      it('gives the current version of every asked stream in one call, 0 for none', async () => {
        const a = stream();
        const b = stream();
        const none = stream();
        await store.appendToStream(a, 0, [ev('A1'), ev('A2'), ev('A3')]);
        await store.appendToStream(b, 0, [ev('B1')]);
        const versions = await store.streamVersions([a, b, none]);
        expect(Object.fromEntries(versions)).toEqual({ [a]: 3, [b]: 1, [none]: 0 });
        await store.appendToStream(b, 1, [ev('B2')]);
        expect((await store.streamVersions([b])).get(b)).toBe(2);
        expect((await store.streamVersions([])).size).toBe(0);
      });
    });

    describe('readAll and headPosition', () => {
      it('reads every stream in global order after a position, in pages', async () => {
        const head = await store.headPosition();
        const a = stream();
        const b = stream();
        await store.appendToStream(a, 0, [ev('A1')]);
        await store.appendToStream(b, 0, [ev('B1'), ev('B2')]);
        await store.appendToStream(a, 1, [ev('A2')]);
        const last = await store.appendToStream(b, 2, [ev('B3')]);

        expect(await store.headPosition()).toBe(last.lastGlobalPosition);
        const all = await store.readAll(head, 100);
        expect(all.map((e) => e.type)).toEqual(['A1', 'B1', 'B2', 'A2', 'B3']);
        const positions = all.map((e) => e.globalPosition);
        expect([...positions].sort((x, y) => x - y)).toEqual(positions);
        expect(new Set(positions).size).toBe(positions.length);

        const pages = [];
        let after = head;
        for (;;) {
          const page = await store.readAll(after, 2);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(2);
          pages.push(...page);
          after = page[page.length - 1]!.globalPosition;
        }
        expect(pages).toEqual(all);
        expect(await store.readAll(last.lastGlobalPosition, 10)).toEqual([]);
        expect(await store.readAll(positions[2]!, 1)).toEqual([all[3]]);
      });

      it('readAllOfTypes returns only the types asked for, in pages, and how far each page covered', async () => {
        const head = await store.headPosition();
        const a = stream();
        const b = stream();
        await store.appendToStream(a, 0, [ev('Wanted'), ev('Other')]);
        await store.appendToStream(b, 0, [ev('Other'), ev('Wanted'), ev('Also')]);
        const last = await store.appendToStream(a, 2, [ev('Other'), ev('Other')]);
        const all = await store.readAll(head, 100);
        const wanted = all.filter((e) => e.type === 'Wanted' || e.type === 'Also');

        const whole = await store.readAllOfTypes(head, 100, ['Wanted', 'Also']);
        expect(whole.events).toEqual(wanted);
        // The trailing events of other types are covered too: a reader moves past them unread.
        expect(whole.through).toBe(last.lastGlobalPosition);

        const pages = [];
        let after = head;
        for (;;) {
          const page = await store.readAllOfTypes(after, 1, ['Wanted', 'Also']);
          expect(page.events.length).toBeLessThanOrEqual(1);
          expect(page.through).toBeGreaterThanOrEqual(after);
          for (const e of page.events) expect(e.globalPosition).toBeLessThanOrEqual(page.through);
          pages.push(...page.events);
          if (page.through === after) break;
          after = page.through;
        }
        expect(pages).toEqual(wanted);
        expect(after).toBe(last.lastGlobalPosition);
        expect(await store.readAllOfTypes(last.lastGlobalPosition, 10, ['Wanted'])).toEqual({
          events: [],
          through: last.lastGlobalPosition,
        });
        expect((await store.readAllOfTypes(head, 10, ['Nothing'])).events).toEqual([]);
      });

      it('reads the same events through readAll as through readStream', async () => {
        const head = await store.headPosition();
        const a = stream();
        await store.appendToStream(a, 0, [
          ev('A1', { x: 1 }, { metadata: { actor: 'admin' }, schemaVersion: 2 }),
        ]);
        expect(await store.readAll(head, 10)).toEqual(await store.readStream(a));
      });
    });

    describe('upTo ("as of" reads)', () => {
      it('reads a stream as it was at an instant', async () => {
        const id = stream();
        const first = await store.appendToStream(id, 0, [ev('A'), ev('B')]);
        await sleep(5);
        const later = await store.appendToStream(id, 2, [ev('C')]);
        const asOf = first.events[1]!.recordedAt;
        expect(later.events[0]!.recordedAt.getTime()).toBeGreaterThan(asOf.getTime());

        expect((await store.readStream(id, { upTo: asOf })).map((e) => e.type)).toEqual(['A', 'B']);
        expect(
          (await store.readStream(id, { upTo: new Date(asOf.getTime() - 1000) })).map((e) => e.type),
        ).toEqual([]);
        expect(
          (await store.readStream(id, { upTo: later.events[0]!.recordedAt })).map((e) => e.type),
        ).toEqual(['A', 'B', 'C']);
        const { version } = await aggregateStream(
          store,
          id,
          { evolve: (n: number) => n + 1, initial: () => 0 },
          { upTo: asOf },
        );
        expect(version).toBe(2);
      });

      it('never records a later event at an earlier instant', async () => {
        const head = await store.headPosition();
        for (let i = 0; i < 5; i++) await store.appendToStream(stream(), 0, [ev('A')]);
        const times = (await store.readAll(head, 10)).map((e) => e.recordedAt.getTime());
        expect([...times].sort((x, y) => x - y)).toEqual(times);
      });
    });

    describe('invalid appends are refused before anything is written', () => {
      const cases: [string, NewEvent[]][] = [
        ['no events', []],
        ['an empty type', [ev('')]],
        ['U+0000 in a data string (refused by jsonb)', [ev('A', { s: 'a\u0000b' })]],
        ['U+0000 in a data key', [ev('A', { 'a\u0000': 1 })]],
        ['a lone surrogate in data', [ev('A', { s: 'x\ud800y' })]],
        ['U+0000 in metadata', [ev('A', {}, { metadata: { actor: 'user:\u0000' } })]],
        ['U+0000 in the type', [ev('A\u0000')]],
        ['undefined data', [{ type: 'A', data: undefined }]],
        ['data that is not JSON', [ev('A', { n: 1n })]],
        ['a schemaVersion of 0', [ev('A', {}, { schemaVersion: 0 })]],
      ];
      it.each(cases)('refuses %s with InvalidEventData', async (_label, events) => {
        const id = stream();
        const batch = events.length === 0 ? [] : [ev('Ok'), ...events];
        const err = await store.appendToStream(id, 0, batch).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(InvalidEventData);
        expect(err).toMatchObject({ name: 'InvalidEventData', streamId: id });
        expect(await store.readStream(id)).toEqual([]);
      });

      it("marks text Postgres cannot store as UnstorableText (the caller's input, not a fault)", async () => {
        for (const data of [{ s: 'a\u0000b' }, { s: 'x\ud800y' }, { 'k\udc00': 1 }]) {
          const err = await store.appendToStream(stream(), 0, [ev('A', data)]).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(UnstorableText);
        }
        const other = await store.appendToStream(stream(), 0, [ev('A', { n: 1n })]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(other).not.toBeInstanceOf(UnstorableText);
      });

      it('refuses U+0000 in a stream id, and a negative expected version', async () => {
        await expect(store.appendToStream('bad-\u0000', 0, [ev('A')])).rejects.toBeInstanceOf(
          InvalidEventData,
        );
        await expect(store.appendToStream(stream(), -1, [ev('A')])).rejects.toBeInstanceOf(InvalidEventData);
      });

      it('keeps a string that merely contains the text \\u0000', async () => {
        const id = stream();
        await store.appendToStream(id, 0, [ev('A', { s: 'back\\u0000slash' })]);
        expect((await store.readStream(id))[0]!.data).toEqual({ s: 'back\\u0000slash' });
      });

      it('refuses the whole appendMany when one request is invalid', async () => {
        const a = stream();
        await expect(
          store.appendMany([
            { streamId: a, expectedVersion: 0, events: [ev('A')] },
            { streamId: stream(), expectedVersion: 0, events: [ev('B', { s: '\u0000' })] },
          ]),
        ).rejects.toBeInstanceOf(InvalidEventData);
        expect(await store.readStream(a)).toEqual([]);
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
