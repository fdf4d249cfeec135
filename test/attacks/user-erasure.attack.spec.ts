import { jest } from '@jest/globals';
import pg from 'pg';
import { authorize, createUser, pkcePair } from '../support/authorize.js';
import { type RunningSystem, startSystem } from '../support/system.js';

/**
 * Erasure (GDPR Art. 17) as an attacker sees it: who may erase (an administrator only, on the
 * admin listener), what an erased person's name and login still open (nothing), and bad input.
 */
jest.setTimeout(60000);

describe('erasing a user, attacked', () => {
  let system: RunningSystem;
  const REDIRECT = 'https://erase-attack.test/cb';
  let clientId: string;

  beforeAll(async () => {
    system = await startSystem();
    clientId = (
      await system.createClient([
        '--name',
        'Erase attack app',
        '--grant',
        'authorization_code',
        '--scope',
        'read',
        '--redirect-uri',
        REDIRECT,
      ])
    ).client_id;
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  const erase = (sub: string, authorization?: string, base = system.adminUrl) =>
    fetch(`${base}/admin/users/${encodeURIComponent(sub)}/erase`, {
      method: 'POST',
      headers: authorization ? { authorization } : {},
    });

  async function userEventTypes(sub: string): Promise<string[]> {
    const db = new pg.Client({ connectionString: system.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ type: string }>(
        `SELECT type FROM events WHERE stream_id = $1 ORDER BY global_position`,
        [`user-${sub}`],
      );
      return rows.map((r) => r.type);
    } finally {
      await db.end();
    }
  }

  it('ERASE-ATK-01: without an administrator credential, or on the public listener, nothing is erased', async () => {
    const { sub } = await createUser(system, 'victim-one', 'victim-one-password');
    for (const authorization of [undefined, 'Bearer not-a-token', `Bearer ${'a'.repeat(43)}`]) {
      const res = await erase(sub, authorization);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toMatch(/stack|at \w+ \(/);
    }
    const viaPublic = await erase(sub, `Bearer ${system.adminToken}`, system.baseUrl);
    expect(viaPublic.status).toBe(404);
    expect(await userEventTypes(sub)).not.toContain('UserErased');
  });

  it('ERASE-ATK-02: an erased user cannot sign in, even with the right password, and the name cannot be taken over', async () => {
    const victim = { username: 'victim-two', password: 'victim-two-password' };
    const { sub } = await createUser(system, victim.username, victim.password);
    expect((await erase(sub, `Bearer ${system.adminToken}`)).status).toBe(200);
    await expect(
      authorize(system, {
        clientId,
        redirectUri: REDIRECT,
        scope: 'read',
        codeChallenge: pkcePair().challenge,
        ...victim,
      }),
    ).rejects.toThrow(/login refused/);
    // Someone registering the erased name gets no access to the old account's history or grants:
    // the name stays reserved (409), so nobody can pose as the erased person.
    await expect(createUser(system, victim.username, 'another-password-1')).rejects.toThrow(/exists|409/);
  });

  it('ERASE-ATK-03: an unknown subject is 404, a malformed one 400; erasing twice records one UserErased', async () => {
    const nobody = await erase('nobody', `Bearer ${system.adminToken}`);
    expect({ status: nobody.status, body: await nobody.json() }).toMatchObject({
      status: 404,
      body: { error: 'not_found' },
    });
    for (const sub of ['../../etc/passwd', 'x'.repeat(200), "a' OR '1'='1"]) {
      const res = await erase(sub, `Bearer ${system.adminToken}`);
      expect({ sub, status: res.status }).toEqual({ sub, status: 400 });
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    }
    const { sub } = await createUser(system, 'victim-three', 'victim-three-password');
    const first = await erase(sub, `Bearer ${system.adminToken}`);
    const second = await erase(sub, `Bearer ${system.adminToken}`);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ sub, status: 'erased' });
    expect((await userEventTypes(sub)).filter((t) => t === 'UserErased')).toHaveLength(1);
  });
});
