import { eventsOrThrow } from '#lib/decider';
import type { SigningKeyringEvent } from './keyring-events.js';
import { InMemoryEventStore, type NewEvent } from '#lib/event-store';
import { randomBytes } from 'node:crypto';
import type { AccessTokenClaims } from './access-token.js';
import { AccessTokenInvalid } from './access-token.js';
import { generateKeyMaterial } from './key-material.js';
import { activeKey, evolveKeyring, initialKeyringState } from './keyring-state.js';
import { decideKeyring as decideKeyringDecision } from './keyring.js';
import { SIGNING_KEYRING_STREAM, type SigningKeyringCommand } from './keyring-events.js';
import { KeyringVerifier } from './keyring-reader.js';
import { Signer } from './signer.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideKeyring = (...args: Parameters<typeof decideKeyringDecision>) =>
  eventsOrThrow(decideKeyringDecision(...args)) as SigningKeyringEvent[];

const issuer = 'https://as.example.test';
const kek = randomBytes(32);
const t0 = Date.parse('2030-01-01T00:00:00.000Z');
const RETENTION = 700;

/** The introspection side of a rotation (checklist JWKS-04, decision 14), on an in-memory store. */
describe('KeyringVerifier across a key rotation (checklist JWKS-04, decision 14)', () => {
  let store: InMemoryEventStore;
  let clock: number;
  const signer = new Signer(kek);

  async function run(command: SigningKeyringCommand): Promise<void> {
    const events = await store.readStream(SIGNING_KEYRING_STREAM);
    const state = events.reduce(evolveKeyring, initialKeyringState());
    await store.appendToStream(
      SIGNING_KEYRING_STREAM,
      events.length,
      decideKeyring(command, state) as NewEvent[],
    );
  }

  async function state() {
    return (await store.readStream(SIGNING_KEYRING_STREAM)).reduce(evolveKeyring, initialKeyringState());
  }

  async function newKey(activatesAt: number): Promise<string> {
    const material = await generateKeyMaterial('ES256', kek);
    await run({
      type: 'GenerateSigningKey',
      ...material,
      now: new Date(clock),
      activatesAt: new Date(activatesAt),
    });
    return material.kid;
  }

  async function tokenNow(jti: string): Promise<string> {
    const iat = Math.floor(clock / 1000);
    const claims: AccessTokenClaims = {
      iss: issuer,
      sub: 'client:S1',
      aud: 'https://api.example.test',
      exp: iat + 600,
      iat,
      jti,
      client_id: 'S1',
      scope: 'read',
    };
    return signer.sign(activeKey(await state())!, claims);
  }

  beforeEach(async () => {
    store = new InMemoryEventStore();
    clock = t0;
    const k1 = await newKey(t0);
    await run({
      type: 'ActivateSigningKey',
      kid: k1,
      now: new Date(t0),
      longestTokenLifetimeSeconds: RETENTION,
    });
  });

  it('K1 tokens verify through the overlap until they expire; K2 tokens once K2 is active', async () => {
    const verifier = new KeyringVerifier(store, issuer, 1000, 30_000, () => clock);
    clock = t0 + 10_000;
    const k2 = await newKey(clock + 600_000);
    clock += 600_000 - 1000;
    const old = await tokenNow('t1');
    await expect(verifier.verify(old)).resolves.toMatchObject({ jti: 't1' });

    clock += 1000;
    await run({
      type: 'ActivateSigningKey',
      kid: k2,
      now: new Date(clock),
      longestTokenLifetimeSeconds: RETENTION,
    });
    const fresh = await tokenNow('t2');
    expect(fresh).not.toBe(old);
    // An unknown kid reloads the keyring at once (read-your-writes).
    await expect(verifier.verify(fresh)).resolves.toMatchObject({ jti: 't2' });
    clock += 598_000;
    await expect(verifier.verify(old)).resolves.toMatchObject({ jti: 't1' });
    clock += 1000;
    await expect(verifier.verify(old)).rejects.toMatchObject({ reason: 'expired' });
    await expect(verifier.verify(fresh)).resolves.toMatchObject({ jti: 't2' });
  });

  it('a key withdrawn by another process stops verifying once the copy is older than maxAge', async () => {
    const verifier = new KeyringVerifier(store, issuer, 1000, 30_000, () => clock);
    const k1Token = await tokenNow('t1');
    const k1 = activeKey(await state())!.kid;
    const k2 = await newKey(clock);
    await run({
      type: 'ActivateSigningKey',
      kid: k2,
      now: new Date(clock),
      longestTokenLifetimeSeconds: RETENTION,
    });
    await expect(verifier.verify(k1Token)).resolves.toMatchObject({ jti: 't1' });

    await run({
      type: 'RetireSigningKey',
      kid: k1,
      now: new Date(clock + 1000),
      publishUntil: new Date(clock + 1000),
    });
    clock += 30_000;
    await expect(verifier.verify(k1Token)).resolves.toMatchObject({ jti: 't1' });
    clock += 1;
    await expect(verifier.verify(k1Token)).rejects.toBeInstanceOf(AccessTokenInvalid);
  });

  it("a retired key's tokens stop verifying when its publishUntil comes, without waiting for maxAge", async () => {
    const verifier = new KeyringVerifier(store, issuer, 1000, 3_600_000, () => clock);
    const k1Token = await tokenNow('t1');
    const k2 = await newKey(clock);
    await run({
      type: 'ActivateSigningKey',
      kid: k2,
      now: new Date(clock),
      longestTokenLifetimeSeconds: 300,
    });
    await expect(verifier.verify(k1Token)).resolves.toMatchObject({ jti: 't1' });
    clock += 299_999;
    await expect(verifier.verify(k1Token)).resolves.toMatchObject({ jti: 't1' });
    clock += 1;
    await expect(verifier.verify(k1Token)).rejects.toMatchObject({ reason: expect.any(String) });
    await expect(verifier.verify(k1Token)).rejects.toBeInstanceOf(AccessTokenInvalid);
  });

  it('a token verified once is answered from the memo until it expires; other bytes are verified in full', async () => {
    const verifier = new KeyringVerifier(store, issuer, 1000, 30_000, () => clock);
    const token = await tokenNow('t1');
    await expect(verifier.verify(token)).resolves.toMatchObject({ jti: 't1' });
    expect(verifier.memoizedVerifications).toBe(0);
    await expect(verifier.verify(token)).resolves.toMatchObject({ jti: 't1' });
    expect(verifier.memoizedVerifications).toBe(1);
    // One changed signature byte: not the memoized token, and its signature fails.
    const [h, p, sig] = token.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    await expect(verifier.verify(flipped)).rejects.toMatchObject({ reason: 'bad_signature' });
    expect(verifier.memoizedVerifications).toBe(1);
    clock += 599_999;
    await expect(verifier.verify(token)).resolves.toMatchObject({ jti: 't1' });
    clock += 1;
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('the memo holds at most memoSize tokens, the oldest leaving first', async () => {
    const verifier = new KeyringVerifier(store, issuer, 1000, 30_000, () => clock, 2);
    const [a, b, c] = [await tokenNow('a'), await tokenNow('b'), await tokenNow('c')];
    for (const t of [a, b, c]) await verifier.verify(t);
    await verifier.verify(c);
    await verifier.verify(b);
    expect(verifier.memoizedVerifications).toBe(2);
    await verifier.verify(a);
    expect(verifier.memoizedVerifications).toBe(2);
  });
});
