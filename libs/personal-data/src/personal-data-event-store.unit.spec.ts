import { InMemoryEventStore } from '#lib/event-store';
import {
  ERASED,
  InMemoryDataKeys,
  isSealed,
  openValue,
  PersonalDataEventStore,
  sealValue,
  UNREADABLE,
  unwrapDataKey,
  usernameIndexId,
  usernameIndexKey,
  wrapDataKey,
} from './index.js';

const fields = {
  events: { UserCreated: ['username', 'email', 'passwordHash'], SessionStarted: ['userAgent'] },
  snapshots: { 'user/1': ['username'] },
};

function setup() {
  const inner = new InMemoryEventStore();
  const keys = new InMemoryDataKeys();
  return { inner, keys, store: new PersonalDataEventStore(inner, keys, fields) };
}

const created = (sub: string, username: string) => ({
  type: 'UserCreated',
  data: { sub, username, email: `${username}@example.com`, passwordHash: '$argon2id$x', createdAt: 't' },
});

describe('personal data sealed under per-person keys (GDPR Art. 17 by crypto-shredding)', () => {
  it('PD-01: the stored event holds ciphertext only; the owner reads it back in clear', async () => {
    const { inner, store } = setup();
    const result = await store.appendToStream('user-s1', 0, [created('s1', 'alice')]);
    expect(result.events[0]!.data).toMatchObject({ username: 'alice', email: 'alice@example.com' });
    const raw = (await inner.readStream('user-s1'))[0]!;
    const text = JSON.stringify(raw.data);
    expect(text).not.toMatch(/alice|argon2/);
    expect(isSealed((raw.data as { username: unknown }).username)).toBe(true);
    expect((raw.data as { sub: string; createdAt: string }).sub).toBe('s1');
    expect((await store.readStream('user-s1'))[0]!.data).toMatchObject({
      username: 'alice',
      passwordHash: '$argon2id$x',
    });
    expect((await store.readAll(0, 10))[0]!.data).toMatchObject({ username: 'alice' });
  });

  it('PD-02: once the key is destroyed every personal field reads as erased, others stay, and later writes seal nothing readable', async () => {
    const { inner, keys, store } = setup();
    await store.appendToStream('user-s1', 0, [created('s1', 'alice')]);
    await store.appendToStream('user-s2', 0, [created('s2', 'bob')]);
    await store.appendToStream('session-x', 0, [
      {
        type: 'SessionStarted',
        data: { sid: 'x', sub: 's1', userAgent: { browser: 'Firefox', os: 'Linux' } },
      },
    ]);
    expect(await keys.erase('s1')).toBe(true);
    const [alice] = await store.readStream('user-s1');
    expect(alice!.data).toEqual({
      sub: 's1',
      username: ERASED,
      email: ERASED,
      passwordHash: ERASED,
      createdAt: 't',
    });
    expect((await store.readStream('session-x'))[0]!.data).toMatchObject({ sid: 'x', userAgent: ERASED });
    expect((await store.readStream('user-s2'))[0]!.data).toMatchObject({ username: 'bob' });
    await store.appendToStream('user-s1', 1, [created('s1', 'alice-again')]);
    expect(JSON.stringify((await inner.readStream('user-s1'))[1]!.data)).not.toContain('alice');
  });

  it('PD-03: snapshots are sealed the same way; values written before sealing pass through', async () => {
    const { inner, keys, store } = setup();
    await store.saveSnapshot({
      streamId: 'user-s1',
      schema: 'user/1',
      version: 3,
      state: { sub: 's1', username: 'alice' },
    });
    expect(JSON.stringify((await inner.readSnapshot('user-s1', 'user/1'))!.state)).not.toContain('alice');
    expect((await store.readSnapshot('user-s1', 'user/1'))!.state).toEqual({ sub: 's1', username: 'alice' });
    await keys.erase('s1');
    expect((await store.readSnapshot('user-s1', 'user/1'))!.state).toEqual({ sub: 's1', username: ERASED });
    await inner.appendToStream('user-s3', 0, [created('s3', 'carol')]);
    expect((await store.readStream('user-s3'))[0]!.data).toMatchObject({ username: 'carol' });
  });

  it('PD-04: a sealed value opens only where it was sealed (field, type, key); a wrapped key only for its subject', () => {
    const key = Buffer.alloc(32, 1);
    const sealed = sealValue(key, 'UserCreated/email', 'a@b.c');
    expect(openValue(key, 'UserCreated/email', sealed)).toBe('a@b.c');
    expect(openValue(key, 'UserCreated/username', sealed)).toBe(UNREADABLE);
    expect(openValue(Buffer.alloc(32, 2), 'UserCreated/email', sealed)).toBe(UNREADABLE);
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'AB' : 'AA');
    expect(openValue(key, 'UserCreated/email', tampered)).toBe(UNREADABLE);
    const kek = Buffer.alloc(32, 3);
    const wrapped = wrapDataKey(kek, 's1', key);
    expect(unwrapDataKey(kek, 's1', wrapped)).toEqual(key);
    expect(() => unwrapDataKey(kek, 's2', wrapped)).toThrow();
  });

  it('PD-05: the username index is a keyed hash: case-insensitive, not the name, different under another key', () => {
    const k = usernameIndexKey(Buffer.alloc(32, 4));
    expect(usernameIndexId(k, 'Alice')).toBe(usernameIndexId(k, 'alice'));
    expect(usernameIndexId(k, 'alice')).not.toContain(Buffer.from('alice').toString('base64url'));
    expect(usernameIndexId(usernameIndexKey(Buffer.alloc(32, 5)), 'alice')).not.toBe(
      usernameIndexId(k, 'alice'),
    );
  });
});
