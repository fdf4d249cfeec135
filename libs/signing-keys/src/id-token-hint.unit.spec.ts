import { eventsOrThrow } from '#lib/decider';
import { InMemoryEventStore, type NewEvent } from '#lib/event-store';
import { SignJWT, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import type { AccessTokenClaims } from './access-token.js';
import { IdTokenHintInvalid, IdTokenHintVerifier } from './id-token-hint.js';
import { generateKeyMaterial } from './key-material.js';
import {
  SIGNING_KEYRING_STREAM,
  type SigningKeyringCommand,
  type SigningKeyringEvent,
} from './keyring-events.js';
import { activeKey, evolveKeyring, initialKeyringState } from './keyring-state.js';
import { decideKeyring } from './keyring.js';
import { Signer } from './signer.js';

const issuer = 'https://as.example.test';
const kek = randomBytes(32);
const t0 = Date.parse('2030-01-01T00:00:00.000Z');

describe('IdTokenHintVerifier (RP-Initiated Logout 1.0 §2 id_token_hint)', () => {
  let store: InMemoryEventStore;
  const signer = new Signer(kek);

  async function run(command: SigningKeyringCommand): Promise<void> {
    const events = await store.readStream(SIGNING_KEYRING_STREAM);
    const state = events.reduce(evolveKeyring, initialKeyringState());
    const decided = eventsOrThrow(decideKeyring(command, state)) as SigningKeyringEvent[];
    await store.appendToStream(SIGNING_KEYRING_STREAM, events.length, decided as NewEvent[]);
  }

  async function keyOf(purpose: 'id_token' | 'access_token') {
    const material = await generateKeyMaterial('ES256', kek);
    await run({
      type: 'GenerateSigningKey',
      ...material,
      ...(purpose === 'id_token' ? { purpose } : {}),
      now: new Date(t0),
      activatesAt: new Date(t0),
    });
    await run({
      type: 'ActivateSigningKey',
      kid: material.kid,
      now: new Date(t0),
      longestTokenLifetimeSeconds: 600,
    });
    const state = (await store.readStream(SIGNING_KEYRING_STREAM)).reduce(
      evolveKeyring,
      initialKeyringState(),
    );
    return purpose === 'id_token'
      ? activeKey(state, { purpose: 'id_token', alg: 'ES256' })!
      : activeKey(state)!;
  }

  const claims = (over: Record<string, unknown> = {}) => ({
    iss: issuer,
    sub: 'user-1',
    aud: 'C1',
    iat: Math.floor(t0 / 1000) - 7200,
    exp: Math.floor(t0 / 1000) - 3600,
    sid: 'S1',
    ...over,
  });

  beforeEach(() => {
    store = new InMemoryEventStore();
  });

  it('accepts an expired ID token of this issuer (§2), returning sub, aud and sid', async () => {
    const key = await keyOf('id_token');
    const verifier = new IdTokenHintVerifier(store, issuer, () => t0);
    const hint = await signer.signIdToken(key, claims());
    await expect(verifier.verify(hint)).resolves.toEqual({ sub: 'user-1', aud: ['C1'], sid: 'S1' });
  });

  it('refuses another issuer, a missing sub or aud', async () => {
    const key = await keyOf('id_token');
    const verifier = new IdTokenHintVerifier(store, issuer, () => t0);
    for (const over of [{ iss: 'https://other.test' }, { sub: undefined }, { aud: undefined }, { aud: [] }])
      await expect(verifier.verify(await signer.signIdToken(key, claims(over)))).rejects.toBeInstanceOf(
        IdTokenHintInvalid,
      );
  });

  it('refuses a logout token (Back-Channel Logout 1.0 §2.4), signed by the same ID-token key', async () => {
    const key = await keyOf('id_token');
    const verifier = new IdTokenHintVerifier(store, issuer, () => t0);
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} };
    const logoutToken = await signer.signLogoutToken(key, claims({ events, jti: 'j1' }));
    await expect(verifier.verify(logoutToken)).rejects.toEqual(new IdTokenHintInvalid('typ'));
    // Typed JWT but carrying `events`: still not an ID token.
    const retyped = await signer.signIdToken(key, claims({ events, jti: 'j2' }));
    await expect(verifier.verify(retyped)).rejects.toEqual(new IdTokenHintInvalid('events'));
  });

  it('refuses a token signed by an access-token key of the keyring', async () => {
    const key = await keyOf('access_token');
    await keyOf('id_token');
    const verifier = new IdTokenHintVerifier(store, issuer, () => t0);
    const asAccessToken = {
      ...claims({ exp: Math.floor(t0 / 1000) + 60 }),
      jti: 'j',
      client_id: 'C1',
      scope: 'openid',
    };
    const token = await signer.sign(key, asAccessToken as unknown as AccessTokenClaims);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(IdTokenHintInvalid);
  });

  it('refuses a forged signature with a kid of the keyring, and garbage', async () => {
    const key = await keyOf('id_token');
    const verifier = new IdTokenHintVerifier(store, issuer, () => t0);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .sign(privateKey);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(IdTokenHintInvalid);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
    await expect(verifier.verify(none)).rejects.toBeInstanceOf(IdTokenHintInvalid);
    for (const bad of ['', 'x', 'a.b.c', 'x'.repeat(9000)])
      await expect(verifier.verify(bad)).rejects.toBeInstanceOf(IdTokenHintInvalid);
  });
});
