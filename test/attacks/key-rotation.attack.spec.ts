import { jest } from '@jest/globals';
import { CompactEncrypt, decodeProtectedHeader } from 'jose';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import {
  authorize,
  CookieJar,
  createUser,
  eventsOfType,
  hiddenField,
  pkcePair,
  postPage,
} from '../support/authorize.js';
import { type AppName, basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * Issue 20, item 2: one key per purpose, each with a key id. Performed on the built system as an
 * operator and an attacker would:
 * - the secret-hash key (client secrets, registration and initial access tokens, codes and refresh
 *   tokens) is rotated by restarting the services with a new current key and the old one still
 *   accepted: what was hashed before keeps working during the grace, what is hashed after carries
 *   the new key id, and once the old key is removed what it hashed no longer verifies;
 * - the cookie-sealing key and the CSRF key likewise: a login session sealed, and a form signed,
 *   before the rotation still work during the grace and not after;
 * - the keys are not interchangeable: whoever holds the key of one purpose (or the legacy
 *   SECRET_PEPPER, no longer listed) cannot forge a session cookie or a CSRF token with it.
 *
 * The forgeries are made by hand (jose, node:crypto) in the format an attacker reads in the source:
 * the sealed value is a compact JWE (dir, A256GCM) under HKDF(key, `authz-seal:<purpose>`) naming
 * its key id in the protected header (`p0` for the pepper), and a CSRF token HMAC-SHA-256 under
 * HKDF(key, `authz-mac:authorization-transaction`) prefixed with the key id (`<kid>.`) once keys
 * have ids.
 */
jest.setTimeout(300000);

const REDIRECT = 'https://app.test/cb';
const newKey = () => randomBytes(32).toString('base64url');
const raw = (key: string) => Buffer.from(key, 'base64url');
const SERVICES: AppName[] = ['client-registry', 'consent', 'token', 'introspection'];

function sealWith(key: string, purpose: string, value: unknown, kid = 'p0'): Promise<string> {
  const derived = hkdfSync('sha256', raw(key), Buffer.alloc(0), `authz-seal:${purpose}`, 32);
  return new CompactEncrypt(Buffer.from(JSON.stringify(value)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
    .encrypt(new Uint8Array(derived));
}

/** The key id a sealed value names (RFC 7515 §4.1.4, in the JWE's protected header). */
const kidOf = (sealed: string) => decodeProtectedHeader(sealed).kid;

function csrfWith(key: string, transactionId: string, binding: string, kid?: string): string {
  const derived = Buffer.from(
    hkdfSync('sha256', raw(key), Buffer.alloc(0), 'authz-mac:authorization-transaction', 32),
  );
  const mac = createHmac('sha256', derived).update(`${transactionId}\n${binding}`).digest('base64url');
  return kid === undefined ? mac : `${kid}.${mac}`;
}

describe('keys per purpose, with key ids, rotated with a grace period (COST-02)', () => {
  let system: RunningSystem;
  const PEPPER = newKey();
  const H1 = newKey();
  const H2 = newKey();
  const C1 = newKey();
  const C2 = newKey();
  const X1 = newKey();
  const X2 = newKey();
  let alice: { sub: string };

  beforeAll(async () => {
    system = await startSystem({
      env: {
        // The legacy pepper is set but listed in no keyset: nothing may be sealed or hashed with it.
        SECRET_PEPPER: PEPPER,
        SECRET_HASH_KEYS: `h1:${H1}`,
        COOKIE_SEALING_KEYS: `c1:${C1}`,
        CSRF_KEYS: `x1:${X1}`,
      },
    });
    alice = await createUser(system, 'alice', 'correct horse battery');
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  /** Restarts `apps` with `keys` (the gateway and the admin plane hold no key). */
  async function rotate(apps: AppName[], keys: Record<string, string>): Promise<void> {
    Object.assign(system.env, keys);
    for (const app of apps) {
      const child = system.children.get(app)!;
      await new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
      await system.launch(app);
      await system.waitOpsReady(app);
    }
  }

  async function registerClient(name: string): Promise<{ client_id: string; client_secret: string }> {
    return system.createClient([
      '--name',
      name,
      '--grant',
      'client_credentials',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--scope',
      'read',
      '--redirect-uri',
      REDIRECT,
    ]);
  }

  async function storedSecretHash(clientId: string): Promise<string> {
    const registered = await eventsOfType<{ secretHash: string }>(system, 'ClientRegistered');
    return registered.find((e) => e.streamId === `client-${clientId}`)!.data.secretHash;
  }

  async function clientCredentials(client: { client_id: string; client_secret: string }) {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      { authorization: basic(client.client_id, client.client_secret) },
    );
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  /** A refresh token for alice (authorization code flow through the pages, then the code exchange). */
  /** Sends the client's secret when it has one. */
  const authOf = (client: {
    client_id: string;
    client_secret?: string;
  }): { form: Record<string, string>; headers: Record<string, string> } =>
    client.client_secret === undefined
      ? { form: { client_id: client.client_id }, headers: {} }
      : { form: {}, headers: { authorization: basic(client.client_id, client.client_secret) } };

  async function refreshTokenFor(client: { client_id: string; client_secret?: string }): Promise<string> {
    const { verifier, challenge } = pkcePair();
    const result = await authorize(system, {
      clientId: client.client_id,
      redirectUri: REDIRECT,
      scope: 'read',
      codeChallenge: challenge,
      username: 'alice',
      password: 'correct horse battery',
    });
    expect(result.code).toBeDefined();
    const res = await postForm(
      `${system.baseUrl}/token`,
      {
        grant_type: 'authorization_code',
        code: result.code!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        ...authOf(client).form,
      },
      authOf(client).headers,
    );
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(200);
    return body.refresh_token!;
  }

  async function refresh(client: { client_id: string; client_secret?: string }, token: string) {
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'refresh_token', refresh_token: token, ...authOf(client).form },
      authOf(client).headers,
    );
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  /** Logs alice in from the account page; the jar then holds her session cookie. */
  async function login(): Promise<CookieJar> {
    const jar = new CookieJar();
    const page = await fetch(`${system.baseUrl}/account`, { headers: { cookie: jar.header() } });
    jar.take(page);
    const html = await page.text();
    const res = await postPage(
      system,
      '/login',
      {
        tx: hiddenField(html, 'tx'),
        csrf: hiddenField(html, 'csrf'),
        username: 'alice',
        password: 'correct horse battery',
      },
      jar,
    );
    expect(res.status).toBe(303);
    expect(jar.cookies.get('authz_session')).toBeDefined();
    return jar;
  }

  /** What GET /account shows to this session cookie: the account page, or the login page. */
  async function accountWith(session: string): Promise<'account' | 'login'> {
    const res = await fetch(`${system.baseUrl}/account`, { headers: { cookie: `authz_session=${session}` } });
    const html = await res.text();
    expect(res.status).toBe(200);
    if (html.includes('<h1>Your account</h1>')) return 'account';
    expect(html).toContain('action="/login"');
    return 'login';
  }

  /** A login form (its tx and csrf, bound to the jar's nonce cookie), fetched now, submitted later. */
  async function loginForm(): Promise<{ jar: CookieJar; tx: string; csrf: string }> {
    const jar = new CookieJar();
    const page = await fetch(`${system.baseUrl}/account`);
    jar.take(page);
    const html = await page.text();
    return { jar, tx: hiddenField(html, 'tx'), csrf: hiddenField(html, 'csrf') };
  }

  async function submitLogin(form: { jar: CookieJar; tx: string; csrf: string }, password: string) {
    const res = await postPage(
      system,
      '/login',
      { tx: form.tx, csrf: form.csrf, username: 'alice', password },
      form.jar,
    );
    return { status: res.status, body: await res.text() };
  }

  describe('the keys of one purpose forge nothing for another', () => {
    /** A session cookie's content naming alice's session `sid` (a login started it). */
    let sid = '';
    const session = () => ({ sid, sub: alice.sub, authTime: Date.now(), exp: Date.now() + 3600_000 });

    it('a session cookie sealed with the cookie key opens; sealed with the CSRF key, the secret-hash key or the unlisted SECRET_PEPPER, it is refused', async () => {
      // The cookie names a browser session, which only a login starts (its stream is checked).
      await login();
      const listed = await fetch(`${system.adminUrl}/admin/users/${alice.sub}/sessions`, {
        headers: { authorization: `Bearer ${system.adminToken}` },
      });
      sid = ((await listed.json()) as { sessions: { sid: string }[] }).sessions[0]!.sid;
      const seen = {
        // The format is right: sealed with the cookie key itself, the forgery is a session.
        cookieKey: await accountWith(await sealWith(C1, 'login-session', session(), 'c1')),
        csrfKeyUnderCookieKid: await accountWith(await sealWith(X1, 'login-session', session(), 'c1')),
        csrfKey: await accountWith(await sealWith(X1, 'login-session', session(), 'x1')),
        secretHashKeyUnderCookieKid: await accountWith(await sealWith(H1, 'login-session', session(), 'c1')),
        secretHashKey: await accountWith(await sealWith(H1, 'login-session', session(), 'h1')),
        // What SECRET_PEPPER sealed (key id p0) opens no longer: the pepper is in no keyset.
        pepper: await accountWith(await sealWith(PEPPER, 'login-session', session())),
      };
      expect(seen).toEqual({
        cookieKey: 'account',
        csrfKeyUnderCookieKid: 'login',
        csrfKey: 'login',
        secretHashKeyUnderCookieKid: 'login',
        secretHashKey: 'login',
        pepper: 'login',
      });
    });

    it('a CSRF token made with the CSRF key passes; made with the cookie key, the secret-hash key or the pepper, the form is refused', async () => {
      // The attacker seals a transaction of their own (they hold the cookie key in this test) and
      // binds a CSRF token to it and to their nonce cookie.
      const form = await loginForm();
      const nonce = form.jar.cookies.get('authz_nonce')!;
      const id = 'attacker-chosen-id';
      const transaction = { kind: 'account', id, exp: Date.now() + 600_000 };
      const tx = await sealWith(C1, 'authorization-transaction', transaction, 'c1');
      const attempt = async (csrf: string, sealed = tx) =>
        (await submitLogin({ ...form, tx: sealed, csrf }, 'a wrong password')).status;
      const seen = {
        // The format is right: with the CSRF key, the form reaches the password check (200).
        csrfKey: await attempt(csrfWith(X1, id, nonce, 'x1')),
        cookieKeyUnderCsrfKid: await attempt(csrfWith(C1, id, nonce, 'x1')),
        cookieKey: await attempt(csrfWith(C1, id, nonce, 'c1')),
        secretHashKeyUnderCsrfKid: await attempt(csrfWith(H1, id, nonce, 'x1')),
        pepper: await attempt(csrfWith(PEPPER, id, nonce)),
        // Transaction and token both made with SECRET_PEPPER: the transaction does not even open.
        pepperForBoth: await attempt(
          csrfWith(PEPPER, id, nonce),
          await sealWith(PEPPER, 'authorization-transaction', transaction),
        ),
      };
      expect(seen).toEqual({
        csrfKey: 200,
        cookieKeyUnderCsrfKid: 403,
        cookieKey: 403,
        secretHashKeyUnderCsrfKid: 403,
        pepper: 403,
        pepperForBoth: 400,
      });
    });
  });

  describe('rotating the secret-hash key', () => {
    let before: { client_id: string; client_secret: string };
    let after: { client_id: string; client_secret: string };
    let app: { client_id: string };
    let grantBefore: string;
    let grantAfter: string;
    let initialAccessToken: string;

    it('hashes carry the key id they were made under', async () => {
      before = await registerClient('Registered before the rotation');
      expect((await storedSecretHash(before.client_id)).startsWith('h1.')).toBe(true);
      app = await system.createClient([
        ...['--name', 'Public app', '--auth-method', 'none', '--scope', 'read'],
        ...['--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', REDIRECT],
      ]);
      grantBefore = await refreshTokenFor(app);
      const res = await fetch(`${system.adminUrl}/admin/initial-access-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({}),
      });
      expect(res.status).toBe(201);
      initialAccessToken = ((await res.json()) as { initial_access_token: string }).initial_access_token;
    });

    it('with a new current key and the old one accepted: what was hashed before still verifies, what is hashed now carries the new key id', async () => {
      await rotate(SERVICES, { SECRET_HASH_KEYS: `h2:${H2},h1:${H1}` });
      expect((await clientCredentials(before)).status).toBe(200);
      // A refresh token of a grant made before the rotation is still redeemed, and rotated.
      const rotated = await refresh(app, grantBefore);
      expect(rotated.status).toBe(200);
      grantBefore = rotated.body.refresh_token!;
      after = await registerClient('Registered after the rotation');
      expect((await storedSecretHash(after.client_id)).startsWith('h2.')).toBe(true);
      expect((await clientCredentials(after)).status).toBe(200);
      grantAfter = await refreshTokenFor(app);
      // An initial access token made before the rotation still registers a client (RFC 7591 §3).
      const registered = await fetch(`${system.baseUrl}/register`, {
        method: 'POST',
        headers: { authorization: `Bearer ${initialAccessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'Self-registered' }),
      });
      expect(registered.status).toBe(201);
      // What the operator reads before removing h1 (docs/operations.md): what h1 still protects.
      const usage = JSON.parse(await system.cli(['audit', 'hash-keys', '--json'])) as {
        kid: string;
        client_secrets: string[];
      }[];
      expect(usage.find((u) => u.kid === 'h1')?.client_secrets).toContain(before.client_id);
      expect(usage.find((u) => u.kid === 'h2')?.client_secrets).toContain(after.client_id);
    });

    it('once the old key is removed, what it hashed no longer verifies; what the new key hashed does', async () => {
      await rotate(SERVICES, { SECRET_HASH_KEYS: `h2:${H2}` });
      const refused = await clientCredentials(before);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
      expect((await clientCredentials(after)).status).toBe(200);
      const old = await refresh(app, grantBefore);
      expect(old.status).toBe(400);
      expect(old.body.error).toBe('invalid_grant');
      expect((await refresh(app, grantAfter)).status).toBe(200);
    });
  });

  describe('rotating the cookie-sealing and CSRF keys', () => {
    let sessionBefore: string;
    let formBefore: { jar: CookieJar; tx: string; csrf: string };

    it('a session sealed and a form signed before the rotation still work during the grace; new ones carry the new key ids', async () => {
      sessionBefore = (await login()).cookies.get('authz_session')!;
      expect(kidOf(sessionBefore)).toBe('c1');
      formBefore = await loginForm();
      expect(kidOf(formBefore.tx)).toBe('c1');
      expect(formBefore.csrf.startsWith('x1.')).toBe(true);
      await rotate(['consent'], { COOKIE_SEALING_KEYS: `c2:${C2},c1:${C1}`, CSRF_KEYS: `x2:${X2},x1:${X1}` });
      expect(await accountWith(sessionBefore)).toBe('account');
      const stillGood = await submitLogin(formBefore, 'a wrong password');
      expect(stillGood.status).toBe(200);
      expect(stillGood.body).toContain('The username or password is not correct.');
      const fresh = (await login()).cookies.get('authz_session')!;
      expect(kidOf(fresh)).toBe('c2');
      const form = await loginForm();
      expect(kidOf(form.tx)).toBe('c2');
      expect(form.csrf.startsWith('x2.')).toBe(true);
    });

    it('once the old CSRF key is removed, a form it signed is refused (403)', async () => {
      await rotate(['consent'], { CSRF_KEYS: `x2:${X2}` });
      const refused = await submitLogin(formBefore, 'a wrong password');
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('the form could not be verified');
      expect(await accountWith(sessionBefore)).toBe('account');
    });

    it('once the old cookie key is removed, the session it sealed is over', async () => {
      await rotate(['consent'], { COOKIE_SEALING_KEYS: `c2:${C2}` });
      expect(await accountWith(sessionBefore)).toBe('login');
      const fresh = (await login()).cookies.get('authz_session')!;
      expect(await accountWith(fresh)).toBe('account');
    });
  });

  describe('an installation from before keys per purpose (SECRET_PEPPER only)', () => {
    let legacyClient: { client_id: string; client_secret: string };
    let app: { client_id: string };
    let grantBefore: string;
    let sessionBefore: string;

    beforeAll(async () => {
      await system.stop();
      system = await startSystem({
        env: { SECRET_PEPPER: PEPPER, SECRET_HASH_KEYS: '', COOKIE_SEALING_KEYS: '', CSRF_KEYS: '' },
      });
      alice = await createUser(system, 'alice', 'correct horse battery');
    }, 120000);

    it('keeps working unchanged: what it stores and seals carries no key id, as before', async () => {
      legacyClient = await registerClient('Registered under the pepper');
      expect(await storedSecretHash(legacyClient.client_id)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      app = await system.createClient([
        ...['--name', 'Public app', '--auth-method', 'none', '--scope', 'read'],
        ...['--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', REDIRECT],
      ]);
      grantBefore = await refreshTokenFor(app);
      sessionBefore = (await login()).cookies.get('authz_session')!;
      expect(kidOf(sessionBefore)).toBe('p0');
      expect((await loginForm()).csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('moves to keys per purpose with the pepper accepted as p0: what it made keeps working, what is made now carries the new key ids', async () => {
      await rotate(SERVICES, {
        SECRET_HASH_KEYS: `h1:${H1},p0`,
        COOKIE_SEALING_KEYS: `c1:${C1},p0`,
        CSRF_KEYS: `x1:${X1},p0`,
      });
      expect((await clientCredentials(legacyClient)).status).toBe(200);
      const rotated = await refresh(app, grantBefore);
      expect(rotated.status).toBe(200);
      expect(await accountWith(sessionBefore)).toBe('account');
      const client = await registerClient('Registered under h1');
      expect((await storedSecretHash(client.client_id)).startsWith('h1.')).toBe(true);
      expect(kidOf((await login()).cookies.get('authz_session')!)).toBe('c1');
      expect((await loginForm()).csrf.startsWith('x1.')).toBe(true);
    });

    it('once p0 leaves the cookie and CSRF keys, the pepper’s session is over and the pepper forges no session', async () => {
      await rotate(['consent'], { COOKIE_SEALING_KEYS: `c1:${C1}`, CSRF_KEYS: `x1:${X1}` });
      expect(await accountWith(sessionBefore)).toBe('login');
      const forged = { sub: alice.sub, authTime: Date.now(), exp: Date.now() + 3600_000 };
      expect(await accountWith(await sealWith(PEPPER, 'login-session', forged))).toBe('login');
      // The client secrets hashed under the pepper still verify: SECRET_HASH_KEYS still names p0.
      expect((await clientCredentials(legacyClient)).status).toBe(200);
    });
  });
});
