import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

type Creds = { client_id: string; client_secret: string };
interface KeyView {
  kid: string;
  alg: string;
  status: 'published' | 'active' | 'retired';
  generated_at: string;
  activates_at: string;
  activated_at: string | null;
  retired_at: string | null;
  publish_until: string | null;
  in_jwks: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lastLine = (out: string) => out.trim().split('\n').pop()!;

/** Small values so that a rotation happens within the test (docs/signing-keys.md, configuration). */
const FAST = {
  JWKS_MAX_AGE_SECONDS: '2',
  KEYRING_REFRESH_SECONDS: '1',
  ACCESS_TOKEN_TTL_SECONDS: '10',
  SIGNING_KEY_RETENTION_SECONDS: '12',
};
const PRE_PUBLICATION_MS = 2 * 2 * 1000;

function helpers(get: () => { system: RunningSystem; client: Creds }) {
  const url = (path: string) => `${get().system.baseUrl}${path}`;
  const auth = () => ({ authorization: basic(get().client.client_id, get().client.client_secret) });
  return {
    /** `at`: when the request was sent; `answeredAt`: when the token arrived (it was signed in between). */
    async issue(): Promise<{ token: string; kid: string; exp: number; at: number; answeredAt: number }> {
      const at = Date.now();
      const res = await postForm(url('/token'), { grant_type: 'client_credentials', scope: 'read' }, auth());
      expect(res.status).toBe(200);
      const token = ((await res.json()) as { access_token: string }).access_token;
      return {
        token,
        kid: decodeProtectedHeader(token).kid!,
        exp: decodeJwt(token).exp!,
        at,
        answeredAt: Date.now(),
      };
    },
    async jwks(): Promise<{ body: JSONWebKeySet; cacheControl: string | null }> {
      const res = await fetch(url('/jwks'));
      expect(res.status).toBe(200);
      return { body: (await res.json()) as JSONWebKeySet, cacheControl: res.headers.get('cache-control') };
    },
    async active(token: string): Promise<boolean> {
      const res = await postForm(url('/introspect'), { token }, auth());
      expect(res.status).toBe(200);
      return ((await res.json()) as { active: boolean }).active;
    },
    async verifies(token: string, jwks: JSONWebKeySet): Promise<boolean> {
      try {
        await jwtVerify(token, createLocalJWKSet(jwks), {
          typ: 'at+jwt',
          issuer: get().system.issuer,
          algorithms: ['ES256', 'EdDSA', 'RS256'],
        });
        return true;
      } catch {
        return false;
      }
    },
    async keys(): Promise<KeyView[]> {
      return (JSON.parse(lastLine(await get().system.cli(['keys', 'list', '--json']))) as { keys: KeyView[] })
        .keys;
    },
  };
}

/**
 * Checklist JWKS-04 and JWKS-05 (decision 14) with the schedule running: SIGNING_KEY_ROTATION_SECONDS=12,
 * JWKS max-age 2 s (a successor is published 4 s before first use), access tokens of 10 s, retired
 * keys published 12 s, and two token replicas deciding the schedule through the keyring stream.
 */
describe('scheduled signing-key rotation with two token replicas (checklist JWKS-04, JWKS-05, decision 14)', () => {
  let system: RunningSystem;
  let client: Creds;
  const h = helpers(() => ({ system, client }));

  beforeAll(async () => {
    system = await startSystem({ env: { ...FAST, SIGNING_KEY_ROTATION_SECONDS: '12' } });
    await system.launch('token', 'token-2');
    await system.waitOpsReady('token-2');
    client = await system.createClient(['--name', 'S1', '--grant', 'client_credentials', '--scope', 'read']);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  it('keys rotate on schedule; each is published 2 × max-age before use; old tokens verify (JWKS and /introspect) until they expire', async () => {
    const firstSeen = new Map<string, number>();
    const lastSeen = new Map<string, number>();
    const firstUsed = new Map<string, number>();
    /** The newest token signed by each key (the longest-lived one). */
    const newestByKid = new Map<string, { token: string; exp: number }>();
    const issued: { kid: string; at: number }[] = [];
    const failures: string[] = [];
    let firstToken: { token: string; exp: number } | undefined;
    const start = Date.now();

    let previousPoll = Date.now();
    let firstPoll = Infinity;
    let maxPollGap = 0;
    while (Date.now() - start < 45_000) {
      const { body, cacheControl } = await h.jwks();
      expect(cacheControl).toBe('public, max-age=2');
      const now = Date.now();
      firstPoll = Math.min(firstPoll, now);
      maxPollGap = Math.max(maxPollGap, now - previousPoll);
      previousPoll = now;
      for (const k of body.keys) {
        if (!firstSeen.has(k.kid!)) firstSeen.set(k.kid!, now);
        lastSeen.set(k.kid!, now);
      }
      const t = await h.issue();
      // JWT-03, JWKS-05: the key of every new token was already in the JWKS fetched just before.
      if (!body.keys.some((k) => k.kid === t.kid))
        failures.push(`token signed by ${t.kid}, not yet in the JWKS`);
      firstToken ??= t;
      issued.push({ kid: t.kid, at: t.at });
      if (!firstUsed.has(t.kid)) firstUsed.set(t.kid, t.answeredAt);
      newestByKid.set(t.kid, { token: t.token, exp: t.exp });

      // Every unexpired token verifies against the JWKS as published now, and introspects active.
      const jwks = (await h.jwks()).body;
      for (const [kid, { token, exp }] of newestByKid) {
        const before = Date.now() / 1000;
        if (before > exp - 1) continue;
        const [verified, active] = await Promise.all([h.verifies(token, jwks), h.active(token)]);
        if (Date.now() / 1000 >= exp) continue;
        if (!verified) failures.push(`token of ${kid} (exp ${exp}) did not verify against the JWKS`);
        if (!active) failures.push(`token of ${kid} (exp ${exp}) introspected inactive before exp`);
      }
      await sleep(250);
    }
    expect(failures).toEqual([]);

    const keys = await h.keys();
    const kids = keys.map((k) => k.kid);
    // At least two rotations in 45 s at one per 12 s.
    expect(firstUsed.size).toBeGreaterThanOrEqual(3);

    // JWKS-05 / decision 14: every successor was in the JWKS at least 2 × max-age before first use.
    let watched = 0;
    for (const key of keys.slice(1)) {
      if (key.activated_at === null) continue;
      expect(Date.parse(key.activated_at) - Date.parse(key.generated_at)).toBeGreaterThanOrEqual(
        PRE_PUBLICATION_MS,
      );
      const seen = firstSeen.get(key.kid);
      const used = firstUsed.get(key.kid);
      // Keys already in the first JWKS fetched were published before the test watched.
      if (seen !== undefined && used !== undefined && seen > firstPoll) {
        // The first sighting may be up to one poll late.
        expect(used - seen).toBeGreaterThanOrEqual(PRE_PUBLICATION_MS - maxPollGap);
        watched += 1;
      }
    }
    expect(watched).toBeGreaterThanOrEqual(1);

    // Two replicas, one decision per step: every key but the newest was activated, never two pending.
    for (const key of keys.slice(0, -1)) expect(key.activated_at).not.toBeNull();
    expect(keys.filter((k) => k.status === 'published').length).toBeLessThanOrEqual(1);
    expect(keys.filter((k) => k.status === 'active').length).toBe(1);

    // New tokens use the new key once it is active (within a keyring refresh, 1 s, plus slack for a loaded machine).
    for (const { kid, at } of issued) {
      const newerActive = keys.filter(
        (k) =>
          k.activated_at !== null &&
          Date.parse(k.activated_at) + 5000 < at &&
          kids.indexOf(k.kid) > kids.indexOf(kid),
      );
      expect(newerActive.map((k) => k.kid)).toEqual([]);
    }

    // JWKS-04: a retired key leaves the JWKS once its publish_until (retirement + 12 s) has passed.
    const gone = keys.filter(
      (k) => k.status === 'retired' && Date.parse(k.publish_until!) < Date.now() - 2000,
    );
    expect(gone.length).toBeGreaterThanOrEqual(1);
    const { body } = await h.jwks();
    for (const key of gone) {
      expect(body.keys.map((k) => k.kid)).not.toContain(key.kid);
      expect(Date.parse(key.publish_until!) - Date.parse(key.retired_at!)).toBe(12_000);
      expect(lastSeen.get(key.kid)).toBeDefined();
    }
    // And its tokens, expired by then, introspect inactive.
    expect(Date.now() / 1000).toBeGreaterThan(firstToken!.exp);
    expect(await h.active(firstToken!.token)).toBe(false);
  }, 120000);
});

/**
 * `npm run cli -- keys …` (rotation on demand), a compromised key withdrawn, and SIGNING_ALG
 * changed between rotations (RS256 and EdDSA selectable; checklist JWT-02, JWKS-07).
 */
describe('keys list / rotate / retire (operator CLI over NATS)', () => {
  let system: RunningSystem;
  let client: Creds;
  const h = helpers(() => ({ system, client }));
  const cliJson = async <T>(args: string[]) => JSON.parse(lastLine(await system.cli(args))) as T;

  async function untilTokenKid(kid: string, timeoutMs = 10_000): Promise<{ token: string; at: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await h.issue();
      if (t.kid === kid) return t;
      if (Date.now() > deadline) throw new Error(`tokens never carried kid ${kid}`);
      await sleep(200);
    }
  }

  async function restartTokenWith(env: Record<string, string>): Promise<void> {
    const child = system.children.get('token')!;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
    Object.assign(system.env, env);
    await system.launch('token');
    await system.waitOpsReady('token');
  }

  beforeAll(async () => {
    // Tokens of 60 s here, so that one issued before a rotation (or a restart) is still live after it.
    system = await startSystem({
      env: {
        ...FAST,
        SIGNING_KEY_ROTATION_SECONDS: '0',
        ACCESS_TOKEN_TTL_SECONDS: '60',
        SIGNING_KEY_RETENTION_SECONDS: '62',
      },
    });
    client = await system.createClient(['--name', 'S1', '--grant', 'client_credentials', '--scope', 'read']);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  it('keys list shows each key with kid, alg, status and dates', async () => {
    const out = await system.cli(['keys', 'list']);
    const keys = await h.keys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ alg: 'ES256', status: 'active', in_jwks: true, retired_at: null });
    expect(keys[0]!.activated_at).toBe(keys[0]!.generated_at);
    expect(out).toMatch(/KID\s+ALG\s+STATUS/);
    expect(out).toContain(keys[0]!.kid);
    expect(out).toContain(keys[0]!.activated_at!);
  }, 30000);

  it('JWKS-04, JWKS-05: keys rotate pre-publishes K2 for 2 × max-age; K1 tokens stay valid through the overlap', async () => {
    const [k1] = await h.keys();
    const before = await h.issue();
    const rotated = await cliJson<{ outcome: string; key: KeyView }>(['keys', 'rotate', '--json']);
    expect(rotated.outcome).toBe('published');
    const k2 = rotated.key;
    expect(Date.parse(k2.activates_at) - Date.parse(k2.generated_at)).toBe(PRE_PUBLICATION_MS);
    // Published at once, not yet signing.
    expect((await h.jwks()).body.keys.map((k) => k.kid)).toEqual([k1!.kid, k2.kid]);
    expect((await h.issue()).kid).toBe(k1!.kid);
    // A second rotate while K2 is pending does not publish a third key.
    expect((await cliJson<{ outcome: string; key: KeyView }>(['keys', 'rotate', '--json'])).key.kid).toBe(
      k2.kid,
    );

    const first = await untilTokenKid(k2.kid);
    expect(first.at).toBeGreaterThanOrEqual(Date.parse(k2.activates_at));
    const jwks = (await h.jwks()).body;
    expect(jwks.keys.map((k) => k.kid)).toEqual([k2.kid, k1!.kid]);
    expect(await h.verifies(before.token, jwks)).toBe(true);
    expect(await h.active(before.token)).toBe(true);
    expect(await h.verifies(first.token, jwks)).toBe(true);

    const keys = await h.keys();
    const retired = keys.find((k) => k.kid === k1!.kid)!;
    expect(retired).toMatchObject({ status: 'retired', in_jwks: true });
    expect(Date.parse(retired.publish_until!) - Date.parse(retired.retired_at!)).toBe(62_000);
    expect(Date.now() / 1000).toBeLessThan(before.exp);
  }, 60000);

  it('keys rotate --now activates a new key at once; a compromised key is withdrawn with keys retire --withdraw', async () => {
    const old = await h.issue();
    const rotated = await cliJson<{ outcome: string; key: KeyView }>(['keys', 'rotate', '--now', '--json']);
    expect(rotated.outcome).toBe('activated');
    expect(rotated.key.activated_at).toBe(rotated.key.generated_at);
    await untilTokenKid(rotated.key.kid, 5000);
    expect(await h.active(old.token)).toBe(true);

    // The active key cannot be retired: the service would have nothing to sign with.
    await expect(system.cli(['keys', 'retire', '--', rotated.key.kid])).rejects.toThrow(/active key/);
    // A retired key stays until --withdraw says so.
    await expect(system.cli(['keys', 'retire', '--', old.kid])).rejects.toThrow(/--withdraw/);
    const withdrawn = await cliJson<KeyView>(['keys', 'retire', '--withdraw', '--json', '--', old.kid]);
    expect(withdrawn).toMatchObject({ kid: old.kid, status: 'retired', in_jwks: false });
    expect((await h.jwks()).body.keys.map((k) => k.kid)).not.toContain(old.kid);
    // Introspection re-reads the keyring every KEYRING_REFRESH_SECONDS (1 s): waited for, not slept.
    const deadline = Date.now() + 15_000;
    while ((await h.active(old.token)) && Date.now() < deadline) await sleep(100);
    expect(await h.active(old.token)).toBe(false);
  }, 60000);

  it('keys rotate --id-token <alg> --now rotates that ID-token key only; an unsupported alg is refused', async () => {
    const accessBefore = (
      await cliJson<{ keys: (KeyView & { purpose: string })[] }>(['keys', 'list', '--json'])
    ).keys
      .filter((k) => k.purpose === 'access_token' && k.status === 'active')
      .map((k) => k.kid);
    const first = await cliJson<{ outcome: string; key: KeyView & { purpose: string } }>([
      'keys',
      'rotate',
      '--id-token',
      'ES256',
      '--now',
      '--json',
    ]);
    expect(first).toMatchObject({ outcome: 'activated', key: { alg: 'ES256', purpose: 'id_token' } });
    const second = await cliJson<{ outcome: string; key: KeyView & { purpose: string } }>([
      'keys',
      'rotate',
      '--id-token',
      'ES256',
      '--now',
      '--json',
    ]);
    expect(second.key.kid).not.toBe(first.key.kid);
    const { keys } = await cliJson<{ keys: (KeyView & { purpose: string })[] }>(['keys', 'list', '--json']);
    expect(keys.find((k) => k.kid === first.key.kid)).toMatchObject({ status: 'retired', in_jwks: true });
    expect(
      keys.filter((k) => k.purpose === 'access_token' && k.status === 'active').map((k) => k.kid),
    ).toEqual(accessBefore);
    await expect(system.cli(['keys', 'rotate', '--id-token', 'HS256'])).rejects.toThrow(
      /RS256, ES256, EdDSA|ES256, EdDSA, RS256/,
    );
  }, 60000);

  it('JWT-02, JWKS-07: with SIGNING_ALG=RS256 the next key is RS256 (2048-bit modulus); then EdDSA; earlier tokens still verify', async () => {
    const es256 = await h.issue();
    expect(decodeProtectedHeader(es256.token).alg).toBe('ES256');

    await restartTokenWith({ SIGNING_ALG: 'RS256' });
    const rs = (await cliJson<{ key: KeyView }>(['keys', 'rotate', '--now', '--json'])).key;
    expect(rs.alg).toBe('RS256');
    const rsToken = await untilTokenKid(rs.kid, 5000);
    expect(decodeProtectedHeader(rsToken.token).alg).toBe('RS256');
    let jwks = (await h.jwks()).body;
    const rsa = jwks.keys.find((k) => k.kid === rs.kid)!;
    expect(rsa).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(Buffer.from(rsa.n!, 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
    expect(await h.verifies(rsToken.token, jwks)).toBe(true);
    expect(await h.verifies(es256.token, jwks)).toBe(true);
    expect(await h.active(rsToken.token)).toBe(true);
    expect(await h.active(es256.token)).toBe(true);

    await restartTokenWith({ SIGNING_ALG: 'EdDSA' });
    const ed = (await cliJson<{ key: KeyView }>(['keys', 'rotate', '--now', '--json'])).key;
    expect(ed.alg).toBe('EdDSA');
    const edToken = await untilTokenKid(ed.kid, 5000);
    jwks = (await h.jwks()).body;
    expect(jwks.keys.find((k) => k.kid === ed.kid)).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      alg: 'EdDSA',
    });
    expect(await h.verifies(edToken.token, jwks)).toBe(true);
    expect(await h.verifies(rsToken.token, jwks)).toBe(true);
    expect(await h.active(edToken.token)).toBe(true);
    expect(await h.active(rsToken.token)).toBe(true);
  }, 90000);

  it('a KEY_ENCRYPTION_KEY change: the old KEK as KEY_ENCRYPTION_KEY_PREVIOUS, rotate, then the new KEK alone', async () => {
    const before = await h.issue();
    const oldKek = system.env.KEY_ENCRYPTION_KEY!;
    await restartTokenWith({
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      KEY_ENCRYPTION_KEY_PREVIOUS: oldKek,
    });
    // The active key, sealed under the old KEK, still signs.
    expect((await h.issue()).kid).toBe(before.kid);
    const rotated = (await cliJson<{ key: KeyView }>(['keys', 'rotate', '--now', '--json'])).key;
    await untilTokenKid(rotated.kid, 5000);
    delete system.env.KEY_ENCRYPTION_KEY_PREVIOUS;
    await restartTokenWith({});
    const after = await h.issue();
    expect(after.kid).toBe(rotated.kid);
    expect(await h.active(after.token)).toBe(true);
    expect(await h.active(before.token)).toBe(true);
  }, 60000);
});
