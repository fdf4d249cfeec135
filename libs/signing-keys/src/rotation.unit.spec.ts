import { eventsOrThrow } from '#lib/decider';
import type { JWK } from 'jose';
import { decideKeyring as decideKeyringDecision, signingKeyringDecider } from './keyring.js';
import { evolveKeyring, initialKeyringState, publishedKeys, type SigningKeyring } from './keyring-state.js';
import type { SigningKeyringCommand, SigningKeyringEvent } from './keyring-events.js';
import {
  checkRotationPolicy,
  InvalidRotationPolicy,
  planInitialKey,
  planManualRotation,
  rotationDue,
  type RotationPolicy,
} from './rotation.js';
import type { SealedPrivateJwk } from './sealed-key.js';
import { fold, recorded } from './testing-helpers.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideKeyring = (...args: Parameters<typeof decideKeyringDecision>) =>
  eventsOrThrow(decideKeyringDecision(...args)) as SigningKeyringEvent[];

const t0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const DAY = 86_400;
// Pre-publication is 2 × 300 s = 600 s.
const policy: RotationPolicy = { rotateEverySeconds: DAY, jwksMaxAgeSeconds: 300 };
const sealed: SealedPrivateJwk = { alg: 'A256GCM', iv: 'aXY', ciphertext: 'Y3Q', tag: 'dGFn' };
const jwk = (kid: string): JWK => ({
  kty: 'EC',
  crv: 'P-256',
  x: 'x',
  y: 'y',
  kid,
  alg: 'ES256',
  use: 'sig',
});

/** Runs commands through the decider, as a command handler would. */
function run(commands: SigningKeyringCommand[]): { state: SigningKeyring; events: SigningKeyringEvent[] } {
  const events: SigningKeyringEvent[] = [];
  for (const command of commands) events.push(...decideKeyring(command, fold(signingKeyringDecider, events)));
  return { state: fold(signingKeyringDecider, events), events };
}

const generate = (kid: string, now: Date, activatesAt = now): SigningKeyringCommand => ({
  type: 'GenerateSigningKey',
  kid,
  alg: 'ES256',
  publicJwk: jwk(kid),
  sealedPrivateJwk: sealed,
  now,
  activatesAt,
});
const activate = (kid: string, now: Date): SigningKeyringCommand => ({
  type: 'ActivateSigningKey',
  kid,
  now,
  longestTokenLifetimeSeconds: 600,
});

describe('Signing key rotation with pre-publication (checklist §19 decision 14; JWKS-04, JWKS-05)', () => {
  describe('planInitialKey', () => {
    it('on first boot: generate and activate at once', () => {
      expect(planInitialKey(run([]).state, t0)).toEqual({ action: 'generate-and-activate' });
    });

    it('with an active key: nothing', () => {
      const { state } = run([generate('A', t0), activate('A', t0)]);
      expect(planInitialKey(state, at(5))).toEqual({ action: 'none', kid: 'A' });
    });

    it('with no active key but an activatable published key: activate it', () => {
      const { state } = run([generate('A', t0)]);
      expect(planInitialKey(state, t0)).toEqual({ action: 'activate', kid: 'A' });
    });

    it('with no active key and a published key not yet activatable: generate and activate', () => {
      const { state } = run([generate('A', t0, at(600))]);
      expect(planInitialKey(state, at(10))).toEqual({ action: 'generate-and-activate' });
    });
  });

  describe('rotationDue', () => {
    const bootstrapped = [generate('A', t0), activate('A', t0)];
    const threshold = DAY - 600;

    it('does nothing while the active key is young', () => {
      expect(rotationDue(run(bootstrapped).state, at(threshold), policy)).toEqual({ action: 'none' });
    });

    it('generates a successor once the active key is older than rotateEvery − 2×jwksMaxAge', () => {
      const now = new Date(at(threshold).getTime() + 1);
      expect(rotationDue(run(bootstrapped).state, now, policy)).toEqual({
        action: 'generate',
        activatesAt: new Date(now.getTime() + 600_000),
      });
    });

    it('waits while the successor has been published less than 2×jwksMaxAge', () => {
      const { state } = run([...bootstrapped, generate('B', at(threshold + 1), at(threshold + 601))]);
      expect(rotationDue(state, at(threshold + 600), policy)).toEqual({ action: 'none' });
    });

    it('activates the successor once published for 2×jwksMaxAge', () => {
      const { state } = run([...bootstrapped, generate('B', at(threshold + 1), at(threshold + 601))]);
      expect(rotationDue(state, at(threshold + 601), policy)).toEqual({ action: 'activate', kid: 'B' });
    });

    it('does not activate a successor before its own activatesAt', () => {
      const { state } = run([...bootstrapped, generate('B', at(threshold), at(threshold + 5000))]);
      expect(rotationDue(state, at(threshold + 4999), policy)).toEqual({ action: 'none' });
    });

    it('activates the oldest ready successor when several are published', () => {
      const { state } = run([...bootstrapped, generate('C', at(20)), generate('B', at(10))]);
      expect(rotationDue(state, at(700), policy)).toEqual({ action: 'activate', kid: 'B' });
    });

    it('does nothing when no key is active (startup is planInitialKey)', () => {
      expect(rotationDue(run([]).state, t0, policy)).toEqual({ action: 'none' });
    });

    it('activates immediately when the JWKS is not cached (max-age 0)', () => {
      const noCache = { rotateEverySeconds: DAY, jwksMaxAgeSeconds: 0 };
      const step = rotationDue(run(bootstrapped).state, at(DAY + 1), noCache);
      expect(step).toEqual({ action: 'generate', activatesAt: at(DAY + 1) });
    });

    it('refuses a policy whose rotation period does not exceed the pre-publication period (JWKS-06)', () => {
      const { state } = run(bootstrapped);
      expect(() => rotationDue(state, t0, { rotateEverySeconds: 600, jwksMaxAgeSeconds: 300 })).toThrow(
        InvalidRotationPolicy,
      );
      expect(() => rotationDue(state, t0, { rotateEverySeconds: DAY, jwksMaxAgeSeconds: -1 })).toThrow(
        InvalidRotationPolicy,
      );
    });

    it('counts the lead from the commit when it is later than the decision, plus the publication lag', () => {
      const events = recorded(run([...bootstrapped, generate('B', at(100), at(700))]).events);
      // SigningKeyGenerated of B committed 5 s after its decision.
      events[2] = { ...events[2]!, recordedAt: at(105) };
      const state = events.reduce(evolveKeyring, initialKeyringState());
      expect(rotationDue(state, at(704), policy)).toEqual({ action: 'none' });
      expect(rotationDue(state, at(705), policy)).toEqual({ action: 'activate', kid: 'B' });
      const lagged = { ...policy, publicationLagMs: 1000 };
      expect(rotationDue(state, at(705), lagged)).toEqual({ action: 'none' });
      expect(rotationDue(state, at(706), lagged)).toEqual({ action: 'activate', kid: 'B' });
    });

    it('with scheduled rotation off (0), never generates but still activates a published successor', () => {
      const off = { rotateEverySeconds: 0, jwksMaxAgeSeconds: 300 };
      expect(rotationDue(run(bootstrapped).state, at(365 * DAY), off)).toEqual({ action: 'none' });
      const { state } = run([...bootstrapped, generate('B', at(10), at(610))]);
      expect(rotationDue(state, at(609), off)).toEqual({ action: 'none' });
      expect(rotationDue(state, at(610), off)).toEqual({ action: 'activate', kid: 'B' });
    });

    it('checkRotationPolicy accepts 0 and periods above 2×jwksMaxAge only (JWKS-06)', () => {
      expect(() => checkRotationPolicy({ rotateEverySeconds: 0, jwksMaxAgeSeconds: 300 })).not.toThrow();
      expect(() => checkRotationPolicy({ rotateEverySeconds: 601, jwksMaxAgeSeconds: 300 })).not.toThrow();
      for (const rotateEverySeconds of [600, -1, 1.5]) {
        expect(() => checkRotationPolicy({ rotateEverySeconds, jwksMaxAgeSeconds: 300 })).toThrow(
          InvalidRotationPolicy,
        );
      }
    });

    it('drives a full rotation: K2 pre-published, activated, K1 kept in the JWKS until its tokens expire', () => {
      const commands = [...bootstrapped];
      let now = at(threshold + 1);
      const first = rotationDue(run(commands).state, now, policy);
      if (first.action !== 'generate') throw new Error(`expected generate, got ${first.action}`);
      commands.push(generate('B', now, first.activatesAt));
      expect(publishedKeys(run(commands).state, now).map((k) => k.kid)).toEqual(['A', 'B']);

      now = first.activatesAt;
      const second = rotationDue(run(commands).state, now, policy);
      expect(second).toEqual({ action: 'activate', kid: 'B' });
      commands.push(activate('B', now));
      const { state, events } = run(commands);
      expect(events.slice(-2).map((e) => e.type)).toEqual(['SigningKeyRetired', 'SigningKeyActivated']);

      expect(publishedKeys(state, new Date(now.getTime() + 599_999)).map((k) => k.kid)).toEqual(['B', 'A']);
      expect(publishedKeys(state, new Date(now.getTime() + 600_000)).map((k) => k.kid)).toEqual(['B']);
      expect(rotationDue(state, now, policy)).toEqual({ action: 'none' });
    });
  });

  describe('planManualRotation (keys rotate)', () => {
    const bootstrapped = [generate('A', t0), activate('A', t0)];
    const options = { jwksMaxAgeSeconds: 300, immediate: false };

    it('JWKS-05: publishes a new key that activates 2×jwksMaxAge later', () => {
      expect(planManualRotation(run(bootstrapped).state, at(50), options)).toEqual({
        action: 'generate',
        activatesAt: at(650),
        activateNow: false,
      });
    });

    it('with --now: a new key active at once', () => {
      expect(planManualRotation(run(bootstrapped).state, at(50), { ...options, immediate: true })).toEqual({
        action: 'generate',
        activatesAt: at(50),
        activateNow: true,
      });
    });

    it('a published successor is reported, not doubled; --now activates it', () => {
      const { state } = run([...bootstrapped, generate('B', at(10), at(610))]);
      expect(planManualRotation(state, at(50), options)).toEqual({
        action: 'pending',
        kid: 'B',
        activatesAt: at(610),
      });
      expect(planManualRotation(state, at(50), { ...options, immediate: true })).toEqual({
        action: 'activate-now',
        kid: 'B',
      });
    });
  });
});

describe('rotation per key slot (an ID-token key of each alg beside the access-token key)', () => {
  const t = new Date('2030-01-01T00:00:00.000Z');
  const sec = (n: number) => new Date(t.getTime() + n * 1000);
  const jwk = (kid: string) => ({ kty: 'OKP', crv: 'Ed25519', x: 'x', kid, alg: 'EdDSA', use: 'sig' });
  const sealedJwk = { alg: 'A256GCM' as const, iv: 'aXY', ciphertext: 'Y3Q', tag: 'dGFn' };
  const gen = (kid: string, at: Date, purpose?: 'id_token') => ({
    type: 'SigningKeyGenerated',
    schemaVersion: 1,
    data: {
      kid,
      alg: 'EdDSA',
      publicJwk: jwk(kid),
      sealedPrivateJwk: sealedJwk,
      ...(purpose ? { purpose } : {}),
      generatedAt: at.toISOString(),
      activatesAt: at.toISOString(),
    },
  });
  const act = (kid: string, at: Date) => ({
    type: 'SigningKeyActivated',
    schemaVersion: 1,
    data: { kid, activatedAt: at.toISOString() },
  });
  const idSlot = { purpose: 'id_token', alg: 'EdDSA' } as const;
  const policy = { rotateEverySeconds: 100, jwksMaxAgeSeconds: 10 };

  it('planInitialKey looks at its slot only: an access-token key does not stand for an ID-token key', () => {
    const state = recorded([gen('A', t), act('A', t)]).reduce(evolveKeyring, initialKeyringState());
    expect(planInitialKey(state, t)).toEqual({ action: 'none', kid: 'A' });
    expect(planInitialKey(state, t, idSlot)).toEqual({ action: 'generate-and-activate' });
  });

  it('rotationDue decides each slot on its own key and its own successor', () => {
    const state = recorded([
      gen('A', t),
      act('A', t),
      gen('I', sec(50), 'id_token'),
      act('I', sec(50)),
    ]).reduce(evolveKeyring, initialKeyringState());
    // The access-token key is due (older than 100 − 20 s), the ID-token key not yet.
    expect(rotationDue(state, sec(81), policy).action).toBe('generate');
    expect(rotationDue(state, sec(81), { ...policy, slot: idSlot })).toEqual({ action: 'none' });
    expect(rotationDue(state, sec(131), { ...policy, slot: idSlot }).action).toBe('generate');
  });
});
