import pg from 'pg';
import { authorize, createUser, pkcePair } from '../support/authorize.js';
import { type AppName, basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * Erasure (GDPR Art. 17) through a fault: the token service (which revokes the user's grants) down
 * when an administrator erases a user. The request fails with a clear error and nothing is left
 * half-done that a retry cannot finish: the retry revokes the grants, destroys the key, and the
 * history holds one UserErased.
 */
describe('erasure through faults', () => {
  let system: RunningSystem;
  const REDIRECT = 'https://erase-fault.test/cb';

  beforeAll(async () => {
    system = await startSystem({ rpcTimeoutMs: 2000 });
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  async function kill(app: AppName): Promise<void> {
    const child = system.children.get(app)!;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<T[]> {
    const db = new pg.Client({ connectionString: system.database.url });
    await db.connect();
    try {
      return (await db.query<T>(text, params)).rows;
    } finally {
      await db.end();
    }
  }

  it('ERASE-FAULT-01: with the token service down erasure fails (503, no stack) and the key stays; the retry finishes it, once', async () => {
    const person = { username: 'fault-erase', password: 'fault-erase-password' };
    const { client_id, client_secret } = await system.createClient([
      '--name',
      'Erase fault app',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--scope',
      'read',
      '--redirect-uri',
      REDIRECT,
    ]);
    const { sub } = await createUser(system, person.username, person.password);
    const { verifier, challenge } = pkcePair();
    const r = await authorize(system, {
      clientId: client_id,
      redirectUri: REDIRECT,
      scope: 'read',
      codeChallenge: challenge,
      ...person,
    });
    const auth = { authorization: basic(client_id, client_secret) };
    const token = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'authorization_code', code: r.code!, redirect_uri: REDIRECT, code_verifier: verifier },
      auth,
    );
    const { refresh_token } = (await token.json()) as { refresh_token: string };

    await kill('token');
    try {
      const failed = await system.admin(`/users/${sub}/erase`, { method: 'POST' });
      expect(failed.status).toBe(503);
      const body = await failed.text();
      expect(body).not.toMatch(/\bat \w+ \(|stack/i);
      // Recorded, but the key is not destroyed before every grant is revoked.
      const keys = await sql<{ wrapped: Buffer | null }>(
        `SELECT wrapped FROM personal_data_keys WHERE sub = $1`,
        [sub],
      );
      expect(keys[0]!.wrapped).not.toBeNull();
    } finally {
      await system.launch('token');
      await system.waitOpsReady('token', 60000);
    }

    const retried = await system.admin(`/users/${sub}/erase`, { method: 'POST' });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ sub, status: 'erased' });
    const keys = await sql<{ wrapped: Buffer | null }>(
      `SELECT wrapped FROM personal_data_keys WHERE sub = $1`,
      [sub],
    );
    expect(keys[0]!.wrapped).toBeNull();
    const erasedEvents = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 AND type = 'UserErased'`,
      [`user-${sub}`],
    );
    expect(erasedEvents[0]!.n).toBe(1);
    const refreshed = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'refresh_token', refresh_token },
      auth,
    );
    expect(refreshed.status).toBe(400);
  });
});
