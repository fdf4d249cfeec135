import { eventsOrThrow } from '#lib/decider';
import type { JWK } from 'jose';
import {
  activeKey,
  initialKeyringState,
  KeyringReplayError,
  publishedKeys,
  evolveKeyring,
} from './keyring-state.js';
import {
  InvalidKeyringCommand,
  signingKeyringDecider,
  SigningKeyActivationTooEarly,
  SigningKeyAlreadyExists,
  SigningKeyAlreadyRetired,
  SigningKeyNotFound,
  SigningKeyNotPublished,
  decideKeyring as decideKeyringDecision,
} from './keyring.js';
import type { GenerateSigningKey, SigningAlg, SigningKeyringEvent } from './keyring-events.js';
import type { SealedPrivateJwk } from './sealed-key.js';
import { deciderSpecification } from '../../testing/src/decider-specification.js';
import { fold, recorded } from './testing-helpers.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideKeyring = (...args: Parameters<typeof decideKeyringDecision>) =>
  eventsOrThrow(decideKeyringDecision(...args)) as SigningKeyringEvent[];

const spec = deciderSpecification(signingKeyringDecider);

const t0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const sealed: SealedPrivateJwk = { alg: 'A256GCM', iv: 'aXY', ciphertext: 'Y3Q', tag: 'dGFn' };

function publicJwk(kid: string, alg: SigningAlg = 'ES256'): JWK {
  switch (alg) {
    case 'ES256':
      return { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid, alg, use: 'sig' };
    case 'EdDSA':
      return { kty: 'OKP', crv: 'Ed25519', x: 'x', kid, alg, use: 'sig' };
    case 'RS256':
      return {
        kty: 'RSA',
        n: Buffer.alloc(256, 0xff).toString('base64url'),
        e: 'AQAB',
        kid,
        alg,
        use: 'sig',
      };
  }
}

function generateCmd(
  kid: string,
  now: Date,
  activatesAt = now,
  alg: SigningAlg = 'ES256',
): GenerateSigningKey {
  return {
    type: 'GenerateSigningKey',
    kid,
    alg,
    publicJwk: publicJwk(kid, alg),
    sealedPrivateJwk: sealed,
    now,
    activatesAt,
  };
}

function generated(
  kid: string,
  now: Date,
  activatesAt = now,
  alg: SigningAlg = 'ES256',
): SigningKeyringEvent {
  return {
    type: 'SigningKeyGenerated',
    schemaVersion: 1,
    data: {
      kid,
      alg,
      publicJwk: publicJwk(kid, alg),
      sealedPrivateJwk: sealed,
      generatedAt: now.toISOString(),
      activatesAt: activatesAt.toISOString(),
    },
  };
}

const activated = (kid: string, now: Date): SigningKeyringEvent => ({
  type: 'SigningKeyActivated',
  schemaVersion: 1,
  data: { kid, activatedAt: now.toISOString() },
});

const retired = (kid: string, now: Date, publishUntil: Date): SigningKeyringEvent => ({
  type: 'SigningKeyRetired',
  schemaVersion: 1,
  data: { kid, retiredAt: now.toISOString(), publishUntil: publishUntil.toISOString() },
});

describe('Signing keyring (checklist §19 decision 14; RFC 7517)', () => {
  describe('GenerateSigningKey', () => {
    it.each<SigningAlg>(['ES256', 'EdDSA', 'RS256'])('publishes a new %s key', (alg) => {
      spec
        .given([])
        .when(generateCmd('A', t0, at(600), alg))
        .then([generated('A', t0, at(600), alg)]);
    });

    it('refuses a kid that already exists', () => {
      spec
        .given([generated('A', t0)])
        .when(generateCmd('A', at(10)))
        .thenRefuses(SigningKeyAlreadyExists, (e) => expect(e.kid).toBe('A'));
    });

    it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])(
      'refuses a publicJwk carrying the private member "%s" (RFC 7518 §6.2.2, §6.3.2, §6.4)',
      (member) => {
        const command = generateCmd('A', t0);
        spec
          .given([])
          .when({ ...command, publicJwk: { ...command.publicJwk, [member]: 'secret' } })
          .thenRefuses(InvalidKeyringCommand, (e) => expect(e.reason).toContain(`"${member}"`));
      },
    );

    it('refuses a publicJwk whose kid, alg or use differ from the command (RFC 7517 §4.2-4.5)', () => {
      const command = generateCmd('A', t0);
      for (const patch of [{ kid: 'B' }, { alg: 'RS256' }, { use: 'enc' }]) {
        spec
          .given([])
          .when({ ...command, publicJwk: { ...command.publicJwk, ...patch } })
          .thenRefuses(InvalidKeyringCommand);
      }
    });

    it('refuses a key that does not fit its alg (RFC 7518 §3.3, §3.4; RFC 8037 §3.1)', () => {
      const es = generateCmd('A', t0, t0, 'ES256');
      spec
        .given([])
        .when({ ...es, publicJwk: { ...es.publicJwk, crv: 'P-384' } })
        .thenRefuses(InvalidKeyringCommand);
      const rs = generateCmd('A', t0, t0, 'RS256');
      spec
        .given([])
        .when({ ...rs, publicJwk: { ...rs.publicJwk, n: Buffer.alloc(128, 0xff).toString('base64url') } })
        .thenRefuses(InvalidKeyringCommand, (e) => expect(e.reason).toMatch(/2048/));
      const ed = generateCmd('A', t0, t0, 'EdDSA');
      spec
        .given([])
        .when({ ...ed, publicJwk: { ...ed.publicJwk, crv: 'X25519' } })
        .thenRefuses(InvalidKeyringCommand);
    });

    it('refuses activatesAt before now', () => {
      spec
        .given([])
        .when(generateCmd('A', t0, at(-1)))
        .thenRefuses(InvalidKeyringCommand);
    });

    it('refuses an invalid instant', () => {
      spec
        .given([])
        .when(generateCmd('A', new Date(NaN)))
        .thenRefuses(InvalidKeyringCommand);
    });
  });

  describe('ActivateSigningKey', () => {
    const activate = (kid: string, now: Date, longestTokenLifetimeSeconds = 600) =>
      ({ type: 'ActivateSigningKey', kid, now, longestTokenLifetimeSeconds }) as const;

    it('activates the first key alone', () => {
      spec
        .given([generated('A', t0)])
        .when(activate('A', t0))
        .then([activated('A', t0)]);
    });

    it('retires the active key in the same decision, published until its last token expires', () => {
      spec
        .given([generated('A', t0), activated('A', t0), generated('B', at(100), at(700))])
        .when(activate('B', at(700), 900))
        .then([retired('A', at(700), at(700 + 900)), activated('B', at(700))]);
    });

    it('refuses to activate before activatesAt (pre-publication)', () => {
      spec
        .given([generated('A', t0), activated('A', t0), generated('B', at(100), at(700))])
        .when(activate('B', at(699)))
        .thenRefuses(SigningKeyActivationTooEarly, (e) => {
          expect(e.kid).toBe('B');
          expect(e.activatesAt).toEqual(at(700));
        });
    });

    it('activates before activatesAt only when the operator waives pre-publication (keys rotate --now)', () => {
      spec
        .given([generated('A', t0), activated('A', t0), generated('B', at(100), at(700))])
        .when({ ...activate('B', at(100)), skipPrePublication: true })
        .then([retired('A', at(100), at(700)), activated('B', at(100))]);
    });

    it('refuses an unknown kid, including names of Object.prototype members', () => {
      spec.given([]).when(activate('A', t0)).thenRefuses(SigningKeyNotFound);
      spec.given([]).when(activate('constructor', t0)).thenRefuses(SigningKeyNotFound);
    });

    it('refuses a key that is already active', () => {
      spec
        .given([generated('A', t0), activated('A', t0)])
        .when(activate('A', at(5)))
        .thenRefuses(SigningKeyNotPublished, (e) => expect(e.status).toBe('active'));
    });

    it('refuses a retired key', () => {
      spec
        .given([generated('A', t0), retired('A', at(1), at(1))])
        .when(activate('A', at(5)))
        .thenRefuses(SigningKeyNotPublished, (e) => expect(e.status).toBe('retired'));
    });

    it('refuses a negative or fractional token lifetime', () => {
      for (const lifetime of [-1, 1.5]) {
        spec
          .given([generated('A', t0)])
          .when(activate('A', t0, lifetime))
          .thenRefuses(InvalidKeyringCommand);
      }
    });
  });

  describe('RetireSigningKey', () => {
    const retire = (kid: string, now: Date, publishUntil: Date) =>
      ({ type: 'RetireSigningKey', kid, now, publishUntil }) as const;

    it('retires the active key (e.g. after a compromise), leaving none active', () => {
      const given = [generated('A', t0), activated('A', t0)];
      spec
        .given(given)
        .when(retire('A', at(10), at(10)))
        .then([retired('A', at(10), at(10))]);
      const state = fold(signingKeyringDecider, [...given, retired('A', at(10), at(10))]);
      expect(activeKey(state)).toBeNull();
    });

    it('retires a published key that never signed', () => {
      spec
        .given([generated('A', t0)])
        .when(retire('A', at(10), at(10)))
        .then([retired('A', at(10), at(10))]);
    });

    it('refuses a key that is already retired', () => {
      spec
        .given([generated('A', t0), retired('A', at(1), at(1))])
        .when(retire('A', at(10), at(10)))
        .thenRefuses(SigningKeyAlreadyRetired);
    });

    it('withdraws a retired key from the JWKS earlier (a compromised key), keeping its first retiredAt', () => {
      const given = [generated('A', t0), activated('A', t0), retired('A', at(10), at(610))];
      spec
        .given(given)
        .when(retire('A', at(20), at(20)))
        .then([retired('A', at(20), at(20))]);
      const state = fold(signingKeyringDecider, [...given, retired('A', at(20), at(20))]);
      expect(state.keys.A).toMatchObject({ status: 'retired', retiredAt: at(10), publishUntil: at(20) });
      expect(publishedKeys(state, at(20))).toEqual([]);
    });

    it('refuses to keep a retired key published longer', () => {
      spec
        .given([generated('A', t0), retired('A', at(10), at(610))])
        .when(retire('A', at(20), at(700)))
        .thenRefuses(SigningKeyAlreadyRetired);
    });

    it('refuses an unknown kid', () => {
      spec
        .given([])
        .when(retire('A', t0, t0))
        .thenRefuses(SigningKeyNotFound);
    });

    it('refuses publishUntil before now', () => {
      spec
        .given([generated('A', t0)])
        .when(retire('A', at(10), at(9)))
        .thenRefuses(InvalidKeyringCommand);
    });
  });

  describe('evolve', () => {
    it('folds the lifecycle published → active → retired', () => {
      const s1 = fold(signingKeyringDecider, [generated('A', t0, at(60))]);
      expect(s1.keys.A).toMatchObject({ status: 'published', generatedAt: t0, activatesAt: at(60) });
      const s2 = fold(signingKeyringDecider, [generated('A', t0, at(60)), activated('A', at(60))]);
      expect(s2.keys.A).toMatchObject({ status: 'active', activatedAt: at(60) });
      const s3 = fold(signingKeyringDecider, [
        generated('A', t0, at(60)),
        activated('A', at(60)),
        retired('A', at(100), at(700)),
      ]);
      expect(s3.keys.A).toMatchObject({ status: 'retired', retiredAt: at(100), publishUntil: at(700) });
    });

    it('does not mutate the state it is given', () => {
      const before = fold(signingKeyringDecider, [generated('A', t0)]);
      const snapshot = structuredClone(before);
      evolveKeyring(before, recorded([activated('A', t0)])[0]!);
      expect(before).toEqual(snapshot);
    });

    it('refuses an event of an unknown schema version', () => {
      const [event] = recorded([{ ...generated('A', t0), schemaVersion: 2 }]);
      expect(() => evolveKeyring(initialKeyringState(), event!)).toThrow(KeyringReplayError);
    });

    it('refuses an unknown event type', () => {
      const [event] = recorded([{ type: 'SigningKeyLost', schemaVersion: 1, data: { kid: 'A' } }]);
      expect(() => evolveKeyring(initialKeyringState(), event!)).toThrow(KeyringReplayError);
    });

    it('refuses an event about a kid never generated', () => {
      const [event] = recorded([activated('A', t0)]);
      expect(() => evolveKeyring(initialKeyringState(), event!)).toThrow(KeyringReplayError);
    });

    it('decides the same events for the same command and state', () => {
      const state = fold(signingKeyringDecider, [generated('A', t0), activated('A', t0), generated('B', t0)]);
      const command = {
        type: 'ActivateSigningKey',
        kid: 'B',
        now: at(1),
        longestTokenLifetimeSeconds: 60,
      } as const;
      expect(decideKeyring(command, state)).toEqual(decideKeyring(command, state));
    });
  });

  describe('queries', () => {
    const history = [
      generated('A', t0),
      activated('A', t0),
      generated('B', at(100), at(700)),
      retired('A', at(700), at(1300)),
      activated('B', at(700)),
      generated('C', at(800), at(1400)),
    ];

    it('activeKey is the one active key', () => {
      expect(activeKey(fold(signingKeyringDecider, history))?.kid).toBe('B');
      expect(activeKey(initialKeyringState())).toBeNull();
    });

    it('publishedKeys holds the active, the pending and the retired keys until publishUntil (decision 14)', () => {
      const state = fold(signingKeyringDecider, history);
      expect(publishedKeys(state, at(900)).map((k) => k.kid)).toEqual(['B', 'C', 'A']);
      expect(publishedKeys(state, at(1299)).map((k) => k.kid)).toEqual(['B', 'C', 'A']);
      expect(publishedKeys(state, at(1300)).map((k) => k.kid)).toEqual(['B', 'C']);
    });
  });
});

const activateCmd = (kid: string, now: Date) =>
  ({ type: 'ActivateSigningKey', kid, now, longestTokenLifetimeSeconds: 600 }) as const;

describe('Key slots: one access-token key, one ID-token key per alg (OpenID Connect Core §15.1)', () => {
  const idToken = (kid: string, alg: SigningAlg, now: Date): SigningKeyringEvent => {
    const e = generated(kid, now, now, alg);
    return { ...e, data: { ...e.data, purpose: 'id_token' } } as SigningKeyringEvent;
  };

  it('GenerateSigningKey with purpose id_token records it; without, the event is as before', () => {
    spec
      .given([])
      .when({ ...generateCmd('R', t0, t0, 'RS256'), purpose: 'id_token' })
      .then([idToken('R', 'RS256', t0)]);
    expect(Object.hasOwn(generated('A', t0).data, 'purpose')).toBe(false);
  });

  it('activating an ID-token key retires neither the access-token key nor another alg’s ID-token key', () => {
    const history = [
      generated('A', t0),
      activated('A', t0),
      idToken('E', 'ES256', t0),
      activated('E', t0),
      idToken('R', 'RS256', at(1)),
    ];
    spec
      .given(history)
      .when(activateCmd('R', at(1)))
      .then([activated('R', at(1))]);
    const state = fold(signingKeyringDecider, [...history, activated('R', at(1))]);
    expect(activeKey(state)?.kid).toBe('A');
    expect(activeKey(state, { purpose: 'id_token', alg: 'ES256' })?.kid).toBe('E');
    expect(activeKey(state, { purpose: 'id_token', alg: 'RS256' })?.kid).toBe('R');
    expect(publishedKeys(state, at(1)).map((k) => k.kid)).toEqual(['A', 'E', 'R']);
  });

  it('an ES256 access-token key and an ES256 ID-token key are different slots', () => {
    const history = [generated('A', t0), activated('A', t0), idToken('E', 'ES256', t0)];
    spec
      .given(history)
      .when(activateCmd('E', t0))
      .then([activated('E', t0)]);
  });

  it('a successor in the same slot retires its predecessor only', () => {
    const history = [
      generated('A', t0),
      activated('A', t0),
      idToken('R1', 'RS256', t0),
      activated('R1', t0),
      idToken('R2', 'RS256', at(5)),
    ];
    spec
      .given(history)
      .when({ ...activateCmd('R2', at(10)), longestTokenLifetimeSeconds: 3630 })
      .then([retired('R1', at(10), at(3640)), activated('R2', at(10))]);
  });
});
