import { jest } from '@jest/globals';
import { authorize, createUser, pkcePair } from './support/authorize.js';
import { searchForSecrets } from './support/secret-search.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * GDPR Art. 17 by crypto-shredding (docs/privacy-and-retention.md): after `users erase`, nothing
 * readable of the person is left in any table, in the event stream or in the audit API; the hash
 * chain still verifies; their tokens stay in the history under the pseudonymous sub.
 */
jest.setTimeout(90000);

describe('forgetting a person without breaking the chain', () => {
  let system: RunningSystem;
  const REDIRECT = 'https://erase.test/cb';

  beforeAll(async () => {
    system = await startSystem();
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  const admin = (path: string, init?: RequestInit) => system.admin(path, init);

  it('ERASE-01: after erasure no table, stream message or audit page holds the username, email or password hash; the chain verifies; the tokens stay under the sub', async () => {
    const person = { username: 'Zelda.Erasable', password: 'zelda-password-1', email: 'zelda@erase.example' };
    const { client_id, client_secret } = await system.createClient([
      '--name',
      'Erase app',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--scope',
      'read',
      '--redirect-uri',
      REDIRECT,
    ]);
    const { sub } = await createUser(system, person.username, person.password, person.email);
    const { verifier, challenge } = pkcePair();
    const r = await authorize(system, {
      clientId: client_id,
      redirectUri: REDIRECT,
      scope: 'read',
      codeChallenge: challenge,
      username: person.username,
      password: person.password,
    });
    const token = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'authorization_code', code: r.code!, redirect_uri: REDIRECT, code_verifier: verifier },
      { authorization: basic(client_id, client_secret) },
    );
    expect(token.status).toBe(200);
    const { refresh_token, access_token } = (await token.json()) as {
      refresh_token: string;
      access_token: string;
    };
    // RFC 7662 username: asked of the consent service, never copied into the token service's events.
    const introspect = async () =>
      (await (
        await postForm(
          `${system.baseUrl}/introspect`,
          { token: access_token },
          { authorization: basic(client_id, client_secret) },
        )
      ).json()) as Record<string, unknown>;
    expect(await introspect()).toMatchObject({ active: true, sub, username: person.username });

    // Sealed from the start: the table never held them in clear, even before erasure.
    const forms = (s: string) => [s, s.toLowerCase(), Buffer.from(s.toLowerCase()).toString('base64url')];
    const before = await searchForSecrets(system, [person.username, person.email, '$argon2id$'], forms);
    expect(before.hits.filter((h) => h.where.startsWith('message'))).toEqual([]);
    // The users read model holds the profile while the person is there.
    expect(
      before.hits.filter((h) => h.where !== 'table projection_rows' && h.where !== 'table events'),
    ).toEqual([]);
    // Still shown to an administrator while the person is there.
    expect(await (await admin(`/users/${sub}`)).json()).toMatchObject({ username: person.username });

    const erased = await admin(`/users/${sub}/erase`, { method: 'POST' });
    expect(erased.status).toBe(200);
    expect(await erased.json()).toEqual({
      sub,
      username: '[erased]',
      email: null,
      name: null,
      status: 'erased',
      created_at: expect.any(String),
    });

    const after = await searchForSecrets(system, [person.username, person.email, '$argon2id$'], forms);
    expect(after.tablesSearched).toBeGreaterThan(5);
    expect(after.messagesSearched).toBeGreaterThan(5);
    expect(after.hits).toEqual([]);

    const history = await admin(`/users/${sub}/history`);
    expect(history.status).toBe(200);
    const text = await history.text();
    for (const form of forms(person.username).concat(forms(person.email), ['$argon2id$']))
      expect(text).not.toContain(form);
    const events = (JSON.parse(text) as { events: { type: string; data: Record<string, unknown> }[] }).events;
    const types = events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['UserCreated', 'UserAuthenticated', 'UserErased', 'AccessTokenIssued']),
    );
    expect(events.find((e) => e.type === 'UserCreated')!.data).toMatchObject({ sub, username: '[erased]' });
    expect(events.filter((e) => e.type === 'AccessTokenIssued').every((e) => e.data.sub === sub)).toBe(true);

    expect(JSON.parse(await system.cli(['audit', 'verify', '--json']))).toMatchObject({ intact: true });

    // The person is gone: no login, no refresh, and the admin API shows the pseudonymous row.
    const refreshed = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'refresh_token', refresh_token },
      { authorization: basic(client_id, client_secret) },
    );
    expect(refreshed.status).toBe(400);
    expect(await introspect()).toEqual({ active: false });
    expect(await (await admin(`/users/${sub}`)).json()).toMatchObject({
      status: 'erased',
      username: '[erased]',
    });
  });
});
