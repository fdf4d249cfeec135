import { jest } from '@jest/globals';
import { CookieJar, createUser, eventsOfType, hiddenField, pkcePair } from '../support/authorize.js';
import { postFormFrom } from '../support/source-address.js';
import { basic, type RunningSystem, startSystem } from '../support/system.js';

/**
 * Brute force against login and client authentication (checklist decision 13, PRIV-09, PRIV-10),
 * performed on the built system as an attacker would: from many addresses (real loopback source
 * addresses, 127.x.y.z: no proxy and no X-Forwarded-For to trust), in parallel, through two
 * consent replicas.
 */
jest.setTimeout(120000);

const REDIRECT = 'https://app.test/cb';

describe('throttling that holds (decision 13)', () => {
  let system: RunningSystem;
  let appId: string;
  const { challenge } = pkcePair();

  beforeAll(async () => {
    system = await startSystem();
    // A second consent replica: the counts must be shared, not per process.
    await system.launch('consent', 'consent-2');
    await system.waitOpsReady('consent-2');
    appId = (
      await system.createClient([
        '--name',
        'App',
        '--grant',
        'authorization_code',
        '--scope',
        'read',
        '--redirect-uri',
        REDIRECT,
      ])
    ).client_id;
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  /** A login form (its tx and csrf, bound to the jar's nonce cookie). */
  async function loginForm(): Promise<{ jar: CookieJar; form: { tx: string; csrf: string } }> {
    const jar = new CookieJar();
    const page = await fetch(
      `${system.baseUrl}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: appId,
        redirect_uri: REDIRECT,
        scope: 'read',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`,
    );
    jar.take(page);
    const html = await page.text();
    return { jar, form: { tx: hiddenField(html, 'tx'), csrf: hiddenField(html, 'csrf') } };
  }

  /** Submits a login form from the loopback address `from`. */
  async function submit(
    { jar, form }: { jar: CookieJar; form: { tx: string; csrf: string } },
    username: string,
    password: string,
    from: string,
  ): Promise<{ status: number; retryAfter: string | null; body: string }> {
    const res = await postFormFrom(
      from,
      `${system.baseUrl}/login`,
      { ...form, username, password },
      { cookie: jar.header() },
    );
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  }

  const login = async (username: string, password: string, from: string) =>
    submit(await loginForm(), username, password, from);

  /** Password checks the consent service recorded for `sub`, once the fire-and-forget appends are in. */
  async function recordedFailures(sub: string): Promise<number> {
    let last = -1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 750));
      const n = (await eventsOfType(system, 'UserLoginFailed')).filter(
        (e) => e.streamId === `user-${sub}`,
      ).length;
      if (n === last) return n;
      last = n;
    }
  }

  it('PRIV-09: 8 parallel wrong passwords from one address, then 6 from 6 other addresses: at most 5 password checks, the rest 429 with Retry-After', async () => {
    const victim = await createUser(system, 'victim', 'victim-password-1');
    const parallel = await Promise.all(
      Array.from({ length: 8 }, (_, i) => login('victim', `wrong-${i}`, '127.0.9.7')),
    );
    const spread = [];
    for (let i = 1; i <= 6; i++) spread.push(await login('victim', `other-${i}`, `127.0.10.${i}`));
    const all = [...parallel, ...spread];
    const checked = all.filter((r) => r.status !== 429);
    expect(checked.every((r) => r.status === 200 && r.body.includes('not correct'))).toBe(true);
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(await recordedFailures(victim.sub)).toBeLessThanOrEqual(5);
    for (const r of all.filter((x) => x.status === 429)) {
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(r.body).toContain('Too many failed attempts');
    }
    expect(spread.map((r) => r.status)).toEqual([429, 429, 429, 429, 429, 429]);
    // The right password waits too while the account is throttled (decision 13).
    expect((await login('victim', 'victim-password-1', '127.0.10.99')).status).toBe(429);
  });

  it('PRIV-10: 12 wrong secrets for a client from address A, then the right secret from address B: 200', async () => {
    const c = await system.createClient([
      '--name',
      'Service',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
    const token = (secret: string, from: string) =>
      postFormFrom(
        from,
        `${system.baseUrl}/token`,
        { grant_type: 'client_credentials', scope: 'read' },
        { authorization: basic(c.client_id, secret) },
      );
    const [A, B] = ['127.0.11.10', '127.0.11.20'];
    const fromA: number[] = [];
    for (let i = 0; i < 12; i++) fromA.push((await token(`wrong-${i}`, A)).status);
    // Address A is limited: 10 failures a minute, then 429.
    expect(fromA).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429]);
    const fromB = await token(c.client_secret, B);
    expect(fromB.status).toBe(200);
    expect((await fromB.json()) as object).toHaveProperty('access_token');
    // So are introspection and revocation callers (RFC 7662 §2.1, RFC 7009 §2.1).
    const introspect = await postFormFrom(
      '127.0.11.21',
      `${system.baseUrl}/introspect`,
      { token: 'not-a-token' },
      { authorization: basic(c.client_id, c.client_secret) },
    );
    expect(introspect.status).toBe(200);
  });

  it('decision 13: client authentication is limited per source address, across client_ids', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push(`nobody-${i}`);
    const statuses: number[] = [];
    for (const id of ids)
      statuses.push(
        (
          await postFormFrom(
            '127.0.12.30',
            `${system.baseUrl}/token`,
            { grant_type: 'client_credentials' },
            { authorization: basic(id, 'guess') },
          )
        ).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
  });

  it('PRIV-09: concurrent password checks per consent process are capped; past the queue, 503 with Retry-After, never 500', async () => {
    // One consent process, allowed one check at a time and one waiting.
    for (const name of ['consent', 'consent-2']) {
      const child = system.children.get(name)!;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await system.launch('consent', 'consent-capped', {
      LOGIN_PASSWORD_CHECKS_CONCURRENCY: '1',
      LOGIN_PASSWORD_CHECKS_QUEUE: '1',
    });
    await system.waitOpsReady('consent-capped');
    // The forms first, then every submission at once.
    const forms = await Promise.all(Array.from({ length: 24 }, () => loginForm()));
    const answers = await Promise.all(
      forms.map((f, i) => submit(f, `flood-${i}`, 'guess-guess', `127.0.13.${i + 1}`)),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const b of busy) {
      expect(Number(b.retryAfter)).toBeGreaterThan(0);
      expect(b.body).toContain('The server is busy');
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    // The process's own count: a password checked for every 200, none for a 503.
    const exposition = await (await fetch(system.opsUrl('consent-capped', '/metrics'))).text();
    const counted = (outcome: string) =>
      Number(
        new RegExp(`^authz_login_attempts_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(
          exposition,
        )?.[1] ?? 0,
      );
    expect(counted('failed')).toBe(statuses.filter((s) => s === 200).length);
    expect(counted('busy')).toBe(busy.length);
  });
});
