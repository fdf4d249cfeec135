import 'reflect-metadata';
import { loadConfig } from '#lib/config';
import { InMemoryEventStore } from '#lib/event-store';
import { SIGNING_KEYRING_STREAM } from '#lib/signing-keys';
import { randomBytes } from 'node:crypto';
import { KeyRetirementRefused, KeyringService } from './keyring.service.js';

const t0 = Date.parse('2030-01-01T00:00:00.000Z');
// Pre-publication 2 × 10 s; rotation every 100 s; retention 30 s.
const config = loadConfig({
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  JWKS_MAX_AGE_SECONDS: '10',
  SIGNING_KEY_ROTATION_SECONDS: '100',
  ACCESS_TOKEN_TTL_SECONDS: '20',
  KEYRING_REFRESH_SECONDS: '1',
  SIGNING_KEY_RETENTION_SECONDS: '30',
});

/** Two token replicas over one store, on one clock (checklist decision 14; replicas decided by the store). */
describe('KeyringService: replicas share one keyring through the event store', () => {
  let store: InMemoryEventStore;
  let a: KeyringService;
  let b: KeyringService;
  let now: number;

  const types = async () => (await store.readStream(SIGNING_KEYRING_STREAM)).map((e) => e.type);

  beforeEach(async () => {
    store = new InMemoryEventStore();
    now = t0;
    a = new KeyringService(store, config);
    b = new KeyringService(store, config);
    a.clock = b.clock = () => new Date(now);
    await Promise.all([a.ensureActiveKey(), b.ensureActiveKey()]);
  });

  it('first start: racing replicas generate and activate exactly one key, and both sign with it', async () => {
    expect(await types()).toEqual(['SigningKeyGenerated', 'SigningKeyActivated']);
    expect(a.activeKey().kid).toBe(b.activeKey().kid);
  });

  it('scheduled rotation: one successor per period, activated once, after the pre-publication lead', async () => {
    now = t0 + 80_000;
    await Promise.all([a.tick(), b.tick()]);
    expect(await types()).toEqual(['SigningKeyGenerated', 'SigningKeyActivated']);

    now = t0 + 80_001;
    await Promise.all([a.tick(), b.tick()]);
    await Promise.all([a.tick(), b.tick()]);
    expect(await types()).toEqual(['SigningKeyGenerated', 'SigningKeyActivated', 'SigningKeyGenerated']);
    const k1 = a.activeKey().kid;
    const k2 = (await a.jwks()).keys.map((k) => k.kid).find((kid) => kid !== k1)!;
    expect(b.activeKey().kid).toBe(k1);

    // The lead is 2 × max-age plus the JWKS answer's own staleness (1 s).
    now = t0 + 80_001 + 20_999;
    await Promise.all([a.tick(), b.tick()]);
    expect(a.activeKey().kid).toBe(k1);

    now = t0 + 80_001 + 21_000;
    await Promise.all([a.tick(), b.tick()]);
    await Promise.all([a.tick(), b.tick()]);
    expect((await types()).slice(2)).toEqual([
      'SigningKeyGenerated',
      'SigningKeyRetired',
      'SigningKeyActivated',
    ]);
    expect(a.activeKey().kid).toBe(k2);
    expect(b.activeKey().kid).toBe(k2);
    const retired = (await a.keys()).keys.find((k) => k.kid === k1)!;
    expect(retired).toMatchObject({ status: 'retired', publishUntil: new Date(now + 30_000) });
  });

  it('keys rotate: publishes once (a second call reports the pending key), --now activates it at once', async () => {
    const meta = { actor: 'admin:cli' };
    const first = await a.rotate(false, meta);
    expect(first.outcome).toBe('published');
    expect(first.key.activatesAt).toEqual(new Date(now + 20_000));
    const again = await b.rotate(false, meta);
    expect(again).toMatchObject({ outcome: 'already-pending', key: { kid: first.key.kid } });
    const forced = await b.rotate(true, meta);
    expect(forced).toMatchObject({ outcome: 'activated', key: { kid: first.key.kid, status: 'active' } });
    await a.refresh();
    expect(a.activeKey().kid).toBe(first.key.kid);
  });

  it('keys rotate --id-token: rotates the ID-token key of that alg, leaving the access-token key and other algs alone', async () => {
    const meta = { actor: 'admin:cli' };
    const access = a.activeKey().kid;
    const es = await a.idTokenKey('ES256');
    const rs = await a.idTokenKey('RS256');
    const published = await a.rotate(false, meta, { purpose: 'id_token', alg: 'ES256' });
    expect(published).toMatchObject({
      outcome: 'published',
      key: { alg: 'ES256', purpose: 'id_token', activatesAt: new Date(now + 20_000) },
    });
    const forced = await b.rotate(true, meta, { purpose: 'id_token', alg: 'ES256' });
    expect(forced).toMatchObject({ outcome: 'activated', key: { kid: published.key.kid, status: 'active' } });
    await a.refresh();
    expect((await a.idTokenKey('ES256')).kid).toBe(published.key.kid);
    expect((await a.idTokenKey('RS256')).kid).toBe(rs.kid);
    expect(a.activeKey().kid).toBe(access);
    // The key it replaced stays published for the ID tokens it signed.
    expect((await a.keys()).keys.find((k) => k.kid === es.kid)).toMatchObject({ status: 'retired' });
    expect((await a.jwks()).keys.map((k) => k.kid)).toContain(es.kid);
  });

  it('keys retire: never the active key; a retired key only with withdraw', async () => {
    const meta = { actor: 'admin:cli' };
    const k1 = a.activeKey().kid;
    await expect(a.retire(k1, true, meta)).rejects.toBeInstanceOf(KeyRetirementRefused);
    await a.rotate(true, meta);
    await expect(a.retire(k1, false, meta)).rejects.toBeInstanceOf(KeyRetirementRefused);
    const withdrawn = await a.retire(k1, true, meta);
    expect(withdrawn).toMatchObject({ status: 'retired', publishUntil: new Date(now) });
    expect((await a.jwks()).keys.map((k) => k.kid)).not.toContain(k1);
    await b.tick();
    expect((await b.jwks()).keys.map((k) => k.kid)).not.toContain(k1);
  });

  it('ID-token keys: made at first use, one per alg, shared by racing replicas, apart from the access-token key', async () => {
    const access = a.activeKey();
    const [rsA, rsB] = await Promise.all([a.idTokenKey('RS256'), b.idTokenKey('RS256')]);
    expect(rsA.kid).toBe(rsB.kid);
    expect(rsA).toMatchObject({ alg: 'RS256', purpose: 'id_token', status: 'active' });
    const es = await a.idTokenKey('ES256');
    expect(es).toMatchObject({ alg: 'ES256', purpose: 'id_token' });
    expect(es.kid).not.toBe(access.kid);
    expect(a.activeKey().kid).toBe(access.kid);
    expect((await a.jwks()).keys.map((k) => k.kid).sort()).toEqual([access.kid, rsA.kid, es.kid].sort());
    expect(await types()).toEqual([
      'SigningKeyGenerated',
      'SigningKeyActivated',
      'SigningKeyGenerated',
      'SigningKeyActivated',
      'SigningKeyGenerated',
      'SigningKeyActivated',
    ]);
  });

  it('ID-token keys rotate on the schedule and stay published for the ID-token lifetime', async () => {
    const first = await a.idTokenKey('EdDSA');
    now = t0 + 80_001;
    await a.tick();
    await a.tick();
    now += 21_000;
    await a.tick();
    await a.tick();
    const next = await b.idTokenKey('EdDSA');
    expect(next.kid).not.toBe(first.kid);
    const old = (await a.keys()).keys.find((k) => k.kid === first.kid)!;
    // ID_TOKEN_TTL_SECONDS (3600) + KEYRING_REFRESH_SECONDS (1).
    expect(old).toMatchObject({ status: 'retired', publishUntil: new Date(now + 3_601_000) });
  });
});
