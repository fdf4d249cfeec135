import { eventsOrThrow } from '#lib/decider';
import type { SigningKeyringEvent } from './keyring-events.js';
import { randomBytes } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  generateKeyPair,
  SignJWT,
  type JWTVerifyGetKey,
} from 'jose';
import {
  AccessTokenInvalid,
  signAccessToken,
  verifyAccessToken,
  type AccessTokenClaims,
  type AccessTokenInvalidReason,
  type VerifyAccessTokenOptions,
} from './access-token.js';
import { jwksDocument } from './jwks.js';
import { generateKeyMaterial } from './key-material.js';
import { activeKey, publishedKeys } from './keyring-state.js';
import { decideKeyring as decideKeyringDecision, signingKeyringDecider } from './keyring.js';
import type { SigningAlg } from './keyring-events.js';
import { Signer } from './signer.js';
import { fold } from './testing-helpers.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideKeyring = (...args: Parameters<typeof decideKeyringDecision>) =>
  eventsOrThrow(decideKeyringDecision(...args)) as SigningKeyringEvent[];

const issuer = 'https://as.example.test';
const kek = randomBytes(32);
const now = new Date('2030-01-01T00:00:00.000Z');
const iat = Math.floor(now.getTime() / 1000);

const claims: AccessTokenClaims = {
  iss: issuer,
  sub: 'user:alice',
  aud: 'https://api.example.test',
  exp: iat + 600,
  iat,
  jti: 'jti-1',
  client_id: 'C1',
  scope: 'read write',
  auth_time: iat - 30,
};

/** A keyring with one active key of `alg`, as the token service holds it. */
async function keyringWith(alg: SigningAlg) {
  const material = await generateKeyMaterial(alg, kek);
  const events = decideKeyring(
    { type: 'GenerateSigningKey', ...material, now, activatesAt: now },
    fold(signingKeyringDecider, []),
  );
  events.push(
    ...decideKeyring(
      { type: 'ActivateSigningKey', kid: material.kid, now, longestTokenLifetimeSeconds: 600 },
      fold(signingKeyringDecider, events),
    ),
  );
  const state = fold(signingKeyringDecider, events);
  const key = activeKey(state)!;
  const keys: JWTVerifyGetKey = createLocalJWKSet(jwksDocument(publishedKeys(state, now)));
  return { key, keys };
}

const fixtures = {
  ES256: keyringWith('ES256'),
  EdDSA: keyringWith('EdDSA'),
  RS256: keyringWith('RS256'),
};

async function options(alg: SigningAlg = 'ES256', patch: Partial<VerifyAccessTokenOptions> = {}) {
  const { keys } = await fixtures[alg];
  return { issuer, keys, algorithms: [alg], clockToleranceSeconds: 0, now, ...patch };
}

async function rejection(promise: Promise<unknown>): Promise<AccessTokenInvalid> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AccessTokenInvalid);
    return err as AccessTokenInvalid;
  }
  throw new Error('expected the token to be rejected');
}

async function expectInvalid(promise: Promise<unknown>, reason: AccessTokenInvalidReason): Promise<void> {
  expect((await rejection(promise)).reason).toBe(reason);
}

describe('JWT access tokens (RFC 9068)', () => {
  const signer = new Signer(kek);

  describe.each<SigningAlg>(['ES256', 'EdDSA', 'RS256'])('%s', (alg) => {
    it('signs and verifies, with header { alg, kid, typ: at+jwt } (§2.1) and the §2.2 claims', async () => {
      const { key } = await fixtures[alg];
      const token = await signer.sign(key, claims);
      expect(decodeProtectedHeader(token)).toEqual({ alg, kid: key.kid, typ: 'at+jwt' });
      await expect(verifyAccessToken(token, await options(alg))).resolves.toEqual(claims);
    });
  });

  it('signs with a private key passed directly (signAccessToken)', async () => {
    const { key } = await fixtures.ES256;
    const token = await signAccessToken(claims, {
      kid: key.kid,
      alg: 'ES256',
      privateKey: await signer.privateKey(key),
    });
    await expect(verifyAccessToken(token, await options())).resolves.toEqual(claims);
  });

  describe('typ (§4; RFC 8725 §3.11)', () => {
    async function signedWithTyp(typ: string | undefined): Promise<string> {
      const { key } = await fixtures.ES256;
      return new SignJWT({ ...claims })
        .setProtectedHeader(
          typ === undefined ? { alg: 'ES256', kid: key.kid } : { alg: 'ES256', kid: key.kid, typ },
        )
        .sign(await signer.privateKey(key));
    }

    it('accepts "application/at+jwt"', async () => {
      await expect(
        verifyAccessToken(await signedWithTyp('application/at+jwt'), await options()),
      ).resolves.toEqual(claims);
    });

    it('refuses typ "JWT"', async () => {
      await expectInvalid(verifyAccessToken(await signedWithTyp('JWT'), await options()), 'wrong_typ');
    });

    it('refuses a missing typ', async () => {
      await expectInvalid(verifyAccessToken(await signedWithTyp(undefined), await options()), 'wrong_typ');
    });
  });

  it('refuses another issuer (§4)', async () => {
    const { key } = await fixtures.ES256;
    const token = await signer.sign(key, { ...claims, iss: 'https://evil.example.test' });
    await expectInvalid(verifyAccessToken(token, await options()), 'wrong_issuer');
  });

  it('refuses an issuer that differs only by a trailing slash (exact match, §4)', async () => {
    const { key } = await fixtures.ES256;
    const token = await signer.sign(key, { ...claims, iss: `${issuer}/` });
    await expectInvalid(verifyAccessToken(token, await options()), 'wrong_issuer');
  });

  it('refuses an expired token (§4), allowing the configured clock tolerance', async () => {
    const { key } = await fixtures.ES256;
    const token = await signer.sign(key, claims);
    const atExp = new Date(claims.exp * 1000);
    await expectInvalid(verifyAccessToken(token, await options('ES256', { now: atExp })), 'expired');
    await expect(
      verifyAccessToken(token, await options('ES256', { now: atExp, clockToleranceSeconds: 5 })),
    ).resolves.toEqual(claims);
  });

  it('refuses a token whose nbf is in the future', async () => {
    const { key } = await fixtures.ES256;
    const token = await signer.sign(key, { ...claims, nbf: iat + 60 } as AccessTokenClaims);
    await expectInvalid(verifyAccessToken(token, await options()), 'not_yet_valid');
  });

  it('refuses an alg outside the allow-list (§4; RFC 8725 §3.1)', async () => {
    const { key } = await fixtures.ES256;
    const token = await signer.sign(key, claims);
    await expectInvalid(
      verifyAccessToken(token, await options('ES256', { algorithms: ['RS256'] })),
      'alg_not_allowed',
    );
  });

  it('refuses alg "none" (§2.1; RFC 8725 §3.1)', async () => {
    const { key } = await fixtures.ES256;
    const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${encode({ alg: 'none', kid: key.kid, typ: 'at+jwt' })}.${encode(claims)}.`;
    await expectInvalid(verifyAccessToken(token, await options()), 'alg_not_allowed');
  });

  it('refuses HS256 signed with the public key (key confusion, RFC 8725 §2.1)', async () => {
    const { key } = await fixtures.RS256;
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
      .sign(Buffer.from(JSON.stringify(key.publicJwk)));
    await expectInvalid(verifyAccessToken(token, await options('RS256')), 'alg_not_allowed');
  });

  it('refuses a tampered signature', async () => {
    const { key } = await fixtures.ES256;
    const [h, p, s] = (await signer.sign(key, claims)).split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[0] = sig[0]! ^ 0x01;
    await expectInvalid(
      verifyAccessToken(`${h}.${p}.${sig.toString('base64url')}`, await options()),
      'bad_signature',
    );
  });

  it('refuses an edited payload (scope widened)', async () => {
    const { key } = await fixtures.ES256;
    const [h, , s] = (await signer.sign(key, claims)).split('.') as [string, string, string];
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'read write admin' })).toString(
      'base64url',
    );
    await expectInvalid(verifyAccessToken(`${h}.${widened}.${s}`, await options()), 'bad_signature');
  });

  it('refuses a removed signature', async () => {
    const { key } = await fixtures.ES256;
    const [h, p] = (await signer.sign(key, claims)).split('.') as [string, string, string];
    await expectInvalid(verifyAccessToken(`${h}.${p}.`, await options()), 'bad_signature');
  });

  it('refuses a token signed by a key not in the JWKS', async () => {
    const { key } = await fixtures.ES256;
    const stranger = await generateKeyPair('ES256');
    const token = await signAccessToken(claims, {
      kid: 'unknown',
      alg: 'ES256',
      privateKey: stranger.privateKey,
    });
    await expectInvalid(verifyAccessToken(token, await options()), 'no_matching_key');
    const sameKid = await signAccessToken(claims, {
      kid: key.kid,
      alg: 'ES256',
      privateKey: stranger.privateKey,
    });
    await expectInvalid(verifyAccessToken(sameKid, await options()), 'bad_signature');
  });

  it('refuses a token missing a REQUIRED claim (§2.2)', async () => {
    const { key } = await fixtures.ES256;
    for (const claim of ['sub', 'client_id', 'jti', 'iat', 'exp', 'aud'] as const) {
      const partial: Partial<AccessTokenClaims> = { ...claims };
      delete partial[claim];
      const token = await signer.sign(key, partial as AccessTokenClaims);
      const error = await rejection(verifyAccessToken(token, await options()));
      expect([error.reason, error.claim]).toEqual(['missing_claim', claim]);
    }
  });

  it('refuses a claim of the wrong type (§2.2)', async () => {
    const { key } = await fixtures.ES256;
    const token = await signer.sign(key, { ...claims, client_id: 42 } as unknown as AccessTokenClaims);
    const error = await rejection(verifyAccessToken(token, await options()));
    expect([error.reason, error.claim]).toEqual(['invalid_claim', 'client_id']);
  });

  it('checks aud when an audience is given (§4)', async () => {
    const { key } = await fixtures.ES256;
    const token = await signer.sign(key, claims);
    await expectInvalid(
      verifyAccessToken(token, await options('ES256', { audience: 'https://other.example.test' })),
      'wrong_audience',
    );
    await expect(
      verifyAccessToken(token, await options('ES256', { audience: 'https://api.example.test' })),
    ).resolves.toEqual(claims);
  });

  it('refuses garbage as malformed', async () => {
    await expectInvalid(verifyAccessToken('not-a-jwt', await options()), 'malformed');
  });

  it('wraps every failure: the jose error stays in cause, never thrown', async () => {
    const error = await rejection(verifyAccessToken('a.b.c', await options()));
    expect(error.name).toBe('AccessTokenInvalid');
    expect(error.cause).toBeInstanceOf(Error);
  });

  describe('Signer', () => {
    it('imports each private key once and reuses it', async () => {
      const { key } = await fixtures.EdDSA;
      const cached = new Signer(kek);
      const [a, b] = await Promise.all([cached.privateKey(key), cached.privateKey(key)]);
      expect(a).toBe(b);
      await cached.sign(key, claims);
      expect(await cached.privateKey(key)).toBe(a);
      expect(cached.cachedKids).toEqual([key.kid]);
      expect(a.extractable).toBe(false);
    });

    it('drops keys not retained after a rotation', async () => {
      const es = (await fixtures.ES256).key;
      const rs = (await fixtures.RS256).key;
      const cached = new Signer(kek);
      await cached.privateKey(es);
      await cached.privateKey(rs);
      cached.retainOnly([rs.kid]);
      expect(cached.cachedKids).toEqual([rs.kid]);
    });

    it('fails with KeyDecryptionError under a wrong KEK and caches nothing', async () => {
      const { key } = await fixtures.ES256;
      const wrong = new Signer(randomBytes(32));
      await expect(wrong.sign(key, claims)).rejects.toMatchObject({ name: 'KeyDecryptionError' });
      expect(wrong.cachedKids).toEqual([]);
    });

    it('opens a key sealed under the previous KEK (a KEK change in progress), never under an unrelated one', async () => {
      const { key } = await fixtures.ES256;
      const changed = new Signer(randomBytes(32), [randomBytes(32), kek]);
      expect(decodeProtectedHeader(await changed.sign(key, claims)).kid).toBe(key.kid);
      const unrelated = new Signer(randomBytes(32), [randomBytes(32)]);
      await expect(unrelated.sign(key, claims)).rejects.toMatchObject({
        name: 'KeyDecryptionError',
        reason: 'wrong_key_or_tampered',
      });
    });
  });
});
