import { authorize, codeIssuedEvent, createUser, pkcePair } from './support/authorize.js';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * The authorization endpoint, login and consent (RFC 6749 §3.1, §4.1; OAuth 2.1; RFC 9700; RFC 9207),
 * black box over HTTP: checklist sections 1 (AUTHZ, PKCE-A) and 2 (UI).
 */
describe('authorization endpoint (RFC 6749 §4.1.1, OAuth 2.1, RFC 9207)', () => {
  let system: RunningSystem;
  let c1: string;
  let iss: string;
  const alice = { username: 'alice', password: 'alice-password-1' };
  const { challenge } = pkcePair();

  beforeAll(async () => {
    system = await startSystem();
    iss = system.issuer;
    c1 = (
      await system.createClient([
        '--name',
        'C1',
        '--grant',
        'authorization_code',
        '--grant',
        'refresh_token',
        '--scope',
        'read write',
        '--default-scope',
        'read',
        '--redirect-uri',
        'https://c1.test/cb',
      ])
    ).client_id;
    await createUser(system, alice.username, alice.password, 'alice@example.com');
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  it('AUTHZ-01: login, consent, then a code with state and iss at the registered redirect URI', async () => {
    const result = await authorize(system, {
      clientId: c1,
      redirectUri: 'https://c1.test/cb',
      scope: 'read',
      state: 'xyz',
      codeChallenge: challenge,
      ...alice,
    });
    expect(result.loginShown).toBe(true);
    expect(result.consentShown).toBe(true);
    expect(result.location.startsWith('https://c1.test/cb?code=')).toBe(true);
    expect(result.state).toBe('xyz');
    expect(result.iss).toBe(iss);
    const issued = await codeIssuedEvent(system, result.code!);
    expect(issued?.data).toMatchObject({ clientId: c1, scope: ['read'], codeChallenge: challenge });
  });
});
