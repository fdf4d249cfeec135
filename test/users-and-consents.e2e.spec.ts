import { jest } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { openValue, unwrapDataKey } from '#lib/personal-data';
import {
  authorize,
  CookieJar,
  createUser,
  eventsOfType,
  hiddenField,
  pkcePair,
  postPage,
} from './support/authorize.js';
import { searchForSecrets } from './support/secret-search.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Resource owners and their consents: the users CLI and admin API, what disabling a user, a new
 * password and revoking a consent do to grants (checklist decision 15, RT-17), the user profile
 * for resource servers, and login throttling with the default thresholds (decision 13, UI-13/14).
 */
jest.setTimeout(60000);

describe('resource owners, consents and login throttling', () => {
  let system: RunningSystem;
  let clientId: string;
  const { challenge } = pkcePair();
  const REDIRECT = 'https://app.test/cb';

  beforeAll(async () => {
    system = await startSystem();
    clientId = (
      await system.createClient([
        '--name',
        'App',
        '--grant',
        'authorization_code',
        '--scope',
        'read write',
        '--redirect-uri',
        REDIRECT,
      ])
    ).client_id;
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${system.adminUrl}/admin${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${system.adminToken}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });

  const flow = (user: { username: string; password: string }, jar?: CookieJar, scope = 'read') =>
    authorize(system, {
      clientId,
      redirectUri: REDIRECT,
      scope,
      codeChallenge: challenge,
      state: 's',
      ...user,
      ...(jar ? { jar } : {}),
    });

  async function revocations(grantId: string) {
    return (await eventsOfType<{ grantId: string; reason: string }>(system, 'GrantRevoked')).filter(
      (e) => e.data.grantId === grantId,
    );
  }

  it('STORE-02: the admin API creates, lists and reads users; stored as argon2id, never shown; a taken username is 409', async () => {
    const created = await admin('/users', {
      method: 'POST',
      body: JSON.stringify({
        username: 'erin',
        password: 'erin-password-1',
        email: 'erin@example.com',
        name: 'Erin',
      }),
    });
    expect(created.status).toBe(201);
    const erin = (await created.json()) as Record<string, unknown>;
    expect(erin).toMatchObject({ username: 'erin', email: 'erin@example.com', status: 'active' });
    // Never shown: the view has exactly these members, and no PHC hash string ('$' cannot occur in
    // the random ids, so this search cannot match by chance).
    expect(Object.keys(erin).sort()).toEqual(['created_at', 'email', 'name', 'status', 'sub', 'username']);
    expect(JSON.stringify(erin)).not.toContain('$argon2');
    const again = await admin('/users', {
      method: 'POST',
      body: JSON.stringify({ username: 'ERIN', password: 'another-password' }),
    });
    expect(again.status).toBe(409);
    const weak = await admin('/users', {
      method: 'POST',
      body: JSON.stringify({ username: 'weak', password: 'short' }),
    });
    expect(weak.status).toBe(400);
    const list = (await (await admin('/users')).json()) as { users: { username: string }[] };
    expect(list.users.map((u) => u.username)).toContain('erin');
    expect((await admin(`/users/${String(erin.sub)}`)).status).toBe(200);
    expect((await admin('/users/nobody')).status).toBe(404);
    expect((await fetch(`${system.adminUrl}/admin/users`)).status).toBe(401);
    // The stored hash is argon2id, sealed under erin's data key (docs/privacy-and-retention.md):
    // opened here with PERSONAL_DATA_KEY the way the consent service opens it.
    const [createdEvent] = (
      await eventsOfType<{ sub: string; username: string; passwordHash: string }>(system, 'UserCreated')
    ).filter((e) => e.data.sub === erin.sub);
    expect(createdEvent!.data.passwordHash).toMatch(/^pd1:/);
    expect(JSON.stringify(createdEvent!.data)).not.toMatch(/erin|argon2/);
    const db = new pg.Client({ connectionString: system.database.url });
    await db.connect();
    const { rows } = await db
      .query<{ wrapped: Buffer }>(`SELECT wrapped FROM personal_data_keys WHERE sub = $1`, [erin.sub])
      .finally(() => db.end());
    const kek = Buffer.from(system.env.PERSONAL_DATA_KEY!, 'base64url');
    const dataKey = unwrapDataKey(kek, String(erin.sub), rows[0]!.wrapped);
    expect(openValue(dataKey, 'UserCreated/passwordHash', createdEvent!.data.passwordHash)).toMatch(
      /^\$argon2id\$/,
    );
    expect(openValue(dataKey, 'UserCreated/username', createdEvent!.data.username)).toBe('erin');
  });

  it('the CLI creates, lists, disables users and sets passwords', async () => {
    await createUser(system, 'frank', 'frank-password-1', 'frank@example.com');
    expect(await system.cli(['users', 'list'])).toMatch(/frank\s+sub=\S+\s+status=active/);
    expect(await system.cli(['users', 'set-password', 'frank', '--password', 'frank-password-2'])).toMatch(
      /frank/,
    );
    expect((await flow({ username: 'frank', password: 'frank-password-2' })).code).toBeDefined();
    expect(await system.cli(['users', 'disable', 'frank'])).toMatch(/status=disabled/);
  });

  it('the demo user of npm start (demo-user): created once, a new password printed at each run', async () => {
    const passwordOf = (out: string) => /password: (\S+)/.exec(out)![1]!;
    const first = passwordOf(await system.cli(['demo-user']));
    const second = passwordOf(await system.cli(['demo-user']));
    expect(first).not.toBe(second);
    await expect(flow({ username: 'demo', password: first })).rejects.toThrow(/login refused/);
    expect((await flow({ username: 'demo', password: second })).code).toBeDefined();
    expect(await system.cli(['users', 'show', 'demo'])).toMatch(/email=demo@example\.com/);
  });

  it('RT-17 / decision 15: disabling a user ends the session, refuses login and revokes every grant', async () => {
    const grace = { username: 'grace', password: 'grace-password-1' };
    const { sub } = await createUser(system, grace.username, grace.password);
    const first = await flow(grace);
    const grantId = first.code!.split('.')[0]!;
    const res = await admin(`/users/${sub}/disable`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await revocations(grantId)).map((e) => e.data.reason)).toEqual(['user_disabled']);
    // The old session no longer counts: the login page again, and the password is refused.
    const again = await fetch(
      `${system.baseUrl}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'read',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual', headers: { cookie: first.jar.header() } },
    );
    const html = await again.text();
    expect(html).toContain('action="/login"');
    const login = await postPage(
      system,
      '/login',
      { tx: hiddenField(html, 'tx'), csrf: hiddenField(html, 'csrf'), ...grace },
      first.jar,
    );
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('not correct');
  });

  it('RT-17 / decision 15: a new password revokes the grants; the old password stops working', async () => {
    const heidi = { username: 'heidi', password: 'heidi-password-1' };
    const { sub } = await createUser(system, heidi.username, heidi.password);
    const first = await flow(heidi);
    const grantId = first.code!.split('.')[0]!;
    const res = await admin(`/users/${sub}/password`, {
      method: 'POST',
      body: JSON.stringify({ password: 'heidi-password-2' }),
    });
    expect(res.status).toBe(200);
    expect((await revocations(grantId)).map((e) => e.data.reason)).toEqual(['user_disabled']);
    await expect(flow(heidi)).rejects.toThrow(/login refused/);
    expect((await flow({ username: 'heidi', password: 'heidi-password-2' })).code).toBeDefined();
  });

  it('operators list and revoke consents; revoking a consent revokes its grants and the consent page returns', async () => {
    const ivan = { username: 'ivan', password: 'ivan-password-1' };
    const { sub } = await createUser(system, ivan.username, ivan.password);
    const first = await flow(ivan, undefined, 'read write');
    expect(first.consentShown).toBe(true);
    const remembered = await flow(ivan, first.jar, 'read');
    expect(remembered.consentShown).toBe(false);
    const consents = (await (await admin(`/users/${sub}/consents`)).json()) as {
      consents: { client_id: string; scope: string }[];
    };
    expect(consents.consents).toEqual([
      expect.objectContaining({ client_id: clientId, scope: 'read write' }),
    ]);
    const revoked = await admin(`/users/${sub}/consents/${encodeURIComponent(clientId)}`, {
      method: 'DELETE',
    });
    expect(await revoked.json()).toEqual({ revoked: true, grants_revoked: 2 });
    for (const code of [first.code!, remembered.code!])
      expect((await revocations(code.split('.')[0]!)).map((e) => e.data.reason)).toEqual(['consent_revoked']);
    const events = await eventsOfType<{ sub: string; clientId: string; revokedBy: string }>(
      system,
      'ConsentRevoked',
    );
    expect(events.find((e) => e.data.sub === sub)?.data).toMatchObject({ clientId, revokedBy: 'admin' });
    expect((await flow(ivan, first.jar)).consentShown).toBe(true);
  });

  it('RT-17: revoking a consent or disabling the user stops the refresh tokens of its grants at /token', async () => {
    const { client_id, client_secret } = await system.createClient([
      '--name',
      'Refreshing app',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--scope',
      'read',
      '--redirect-uri',
      'https://refresh.test/cb',
    ]);
    const auth = { authorization: basic(client_id, client_secret) };
    const { verifier, challenge: ch } = pkcePair();
    const lena = { username: 'lena', password: 'lena-password-1' };
    const { sub } = await createUser(system, lena.username, lena.password);
    const redeem = async () => {
      const r = await authorize(system, {
        clientId: client_id,
        redirectUri: 'https://refresh.test/cb',
        scope: 'read',
        codeChallenge: ch,
        ...lena,
      });
      const res = await postForm(
        `${system.baseUrl}/token`,
        {
          grant_type: 'authorization_code',
          code: r.code!,
          redirect_uri: 'https://refresh.test/cb',
          code_verifier: verifier,
        },
        auth,
      );
      expect(res.status).toBe(200);
      return ((await res.json()) as { refresh_token: string }).refresh_token;
    };
    const refresh = (token: string) =>
      postForm(`${system.baseUrl}/token`, { grant_type: 'refresh_token', refresh_token: token }, auth);
    const beforeRevocation = await redeem();
    await admin(`/users/${sub}/consents/${encodeURIComponent(client_id)}`, { method: 'DELETE' });
    const refused = await refresh(beforeRevocation);
    expect({ status: refused.status, error: ((await refused.json()) as { error: string }).error }).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    const beforeDisable = await redeem();
    await admin(`/users/${sub}/disable`, { method: 'POST' });
    expect((await refresh(beforeDisable)).status).toBe(400);
  });

  it('consent.user-profile tells a resource server the username, email and name, never the hash', async () => {
    const erin = (
      (await (await admin('/users')).json()) as { users: { sub: string; username: string }[] }
    ).users.find((u) => u.username === 'erin')!;
    const nc = await connect({ servers: system.env.NATS_URL! });
    try {
      const reply = await nc.request(
        `${system.env.NATS_SUBJECT_PREFIX}.consent.user-profile`,
        JSON.stringify({
          pattern: `${system.env.NATS_SUBJECT_PREFIX}.consent.user-profile`,
          data: { sub: erin.sub },
          id: '1',
        }),
        { timeout: 5000 },
      );
      const body = JSON.parse(reply.string()) as { response: Record<string, unknown> };
      expect(body.response).toEqual({
        sub: erin.sub,
        username: 'erin',
        email: 'erin@example.com',
        name: 'Erin',
        status: 'active',
      });
    } finally {
      await nc.close();
    }
  });

  it('STORE-01 / STORE-03: passwords, codes and session cookies are nowhere in the tables or the event stream', async () => {
    const kim = { username: 'kim', password: 'kim-Secret-password-42' };
    await createUser(system, kim.username, kim.password);
    const result = await flow(kim);
    const secrets = [
      kim.password,
      result.code!,
      result.code!.split('.')[1]!,
      result.jar.cookies.get('authz_session')!,
      result.jar.cookies.get('authz_nonce')!,
    ];
    expect(secrets.every((x) => typeof x === 'string' && x.length >= 16)).toBe(true);
    const search = await searchForSecrets(system, secrets);
    expect(search.tablesSearched).toBeGreaterThan(0);
    expect(search.messagesSearched).toBeGreaterThan(0);
    expect(search.hits).toEqual([]);
  });

  it('UI-13 / decision 13: from the 5th failure on, 429 with Retry-After, also for the right password', async () => {
    const judy = { username: 'judy', password: 'judy-password-1' };
    await createUser(system, judy.username, judy.password);
    const jar = new CookieJar();
    const page = await fetch(
      `${system.baseUrl}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'read',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`,
    );
    jar.take(page);
    const html = await page.text();
    const form = { tx: hiddenField(html, 'tx'), csrf: hiddenField(html, 'csrf') };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await postPage(
        system,
        '/login',
        { ...form, username: 'judy', password: `wrong-${i}` },
        jar,
      );
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
    const right = await postPage(system, '/login', { ...form, ...judy }, jar);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await right.text()).toContain('Too many failed attempts');
  });

  it('UI-14: password spraying from one address is throttled after the per-address threshold', async () => {
    const jar = new CookieJar();
    const page = await fetch(
      `${system.baseUrl}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'read',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`,
    );
    jar.take(page);
    const html = await page.text();
    const form = { tx: hiddenField(html, 'tx'), csrf: hiddenField(html, 'csrf') };
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      const res = await postPage(
        system,
        '/login',
        { ...form, username: `spray${i}`, password: 'Winter2026!' },
        jar,
      );
      statuses.push(res.status);
    }
    const firstThrottled = statuses.indexOf(429);
    expect(firstThrottled).toBeGreaterThan(0);
    expect(firstThrottled).toBeLessThanOrEqual(20);
    expect(statuses.slice(firstThrottled).every((s) => s === 429)).toBe(true);
  }, 60000);

  const authorizeUrl = () =>
    `${system.baseUrl}/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope: 'read',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;

  const kill = (name: string) =>
    new Promise<void>((done) => {
      const child = system.children.get(name)!;
      child.once('exit', () => done());
      child.kill('SIGKILL');
    });

  it('with the client registry down, /authorize still answers: consent reads the client from its stream, not from the registry', async () => {
    await kill('client-registry');
    const res = await fetch(authorizeUrl(), { redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('name="username"');
  });

  it('AUTHZ-35: with the consent service down, a 503 page with Retry-After, quickly; never a bare 500 or a hang', async () => {
    await kill('consent');
    const started = Date.now();
    const res = await fetch(authorizeUrl(), { redirect: 'manual' });
    expect(Date.now() - started).toBeLessThan(10000);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('temporarily_unavailable');
  });
});
