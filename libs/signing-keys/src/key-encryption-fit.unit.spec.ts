import { eventsOrThrow } from '#lib/decider';
import { randomBytes } from 'node:crypto';
import { decideKeyring as decideKeyringDecision } from './keyring.js';
import { evolveKeyring, initialKeyringState, type SigningKeyring } from './keyring-state.js';
import type { SigningKeyringEvent } from './keyring-events.js';
import { keysSealedUnderOtherKeks } from './key-encryption-fit.js';
import { generateKeyMaterial } from './key-material.js';
import { recorded } from './testing-helpers.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideKeyring = (...args: Parameters<typeof decideKeyringDecision>) =>
  eventsOrThrow(decideKeyringDecision(...args)) as SigningKeyringEvent[];

const t0 = new Date('2030-01-01T00:00:00.000Z');

/** A keyring whose active key is sealed under `activeKek` and whose next key under `nextKek`. */
async function keyring(
  activeKek: Buffer,
  nextKek: Buffer,
): Promise<{ state: SigningKeyring; kids: string[] }> {
  const events: SigningKeyringEvent[] = [];
  let state = initialKeyringState();
  const apply = (more: SigningKeyringEvent[]) => {
    events.push(...more);
    state = recorded(events, 'signing-keyring').reduce(evolveKeyring, initialKeyringState());
  };
  const first = await generateKeyMaterial('ES256', activeKek);
  apply(decideKeyring({ type: 'GenerateSigningKey', ...first, now: t0, activatesAt: t0 }, state));
  apply(
    decideKeyring(
      { type: 'ActivateSigningKey', kid: first.kid, now: t0, longestTokenLifetimeSeconds: 600 },
      state,
    ),
  );
  const next = await generateKeyMaterial('ES256', nextKek);
  apply(
    decideKeyring(
      { type: 'GenerateSigningKey', ...next, now: t0, activatesAt: new Date(t0.getTime() + 6e5) },
      state,
    ),
  );
  return { state, kids: [first.kid, next.kid] };
}

describe('signing keys and the key-encryption keys a process is given', () => {
  const kek = randomBytes(32);
  const other = randomBytes(32);

  it('none reported when the given key opens every key that signs now or will', async () => {
    const { state } = await keyring(kek, kek);
    expect(keysSealedUnderOtherKeks(state, [kek])).toEqual([]);
  });

  it('reports the active and the next key when they were sealed under another key', async () => {
    const { state, kids } = await keyring(other, other);
    expect(keysSealedUnderOtherKeks(state, [kek]).map((k) => k.kid)).toEqual(kids);
  });

  it('a previous key (KEY_ENCRYPTION_KEY_PREVIOUS) that opens them is enough', async () => {
    const { state, kids } = await keyring(other, kek);
    expect(keysSealedUnderOtherKeks(state, [kek]).map((k) => k.kid)).toEqual([kids[0]]);
    expect(keysSealedUnderOtherKeks(state, [kek, other])).toEqual([]);
  });

  it('retired keys sign nothing and are not looked at', async () => {
    const { state, kids } = await keyring(other, kek);
    const later = new Date(t0.getTime() + 6e5);
    const activation = decideKeyring(
      { type: 'ActivateSigningKey', kid: kids[1]!, now: later, longestTokenLifetimeSeconds: 600 },
      state,
    );
    const rotated = recorded(activation, 'signing-keyring').reduce(evolveKeyring, state);
    expect(rotated.keys[kids[0]!]!.status).toBe('retired');
    expect(keysSealedUnderOtherKeks(rotated, [kek])).toEqual([]);
  });

  it('an empty keyring (a database the token service never started on) has nothing to open', () => {
    expect(keysSealedUnderOtherKeks(initialKeyringState(), [kek])).toEqual([]);
  });
});
