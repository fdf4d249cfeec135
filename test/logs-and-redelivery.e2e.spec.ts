import { connect } from '@nats-io/transport-node';
import { authorize, createUser, eventsOfType, pkcePair } from './support/authorize.js';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Checklist STORE-04: after a whole life (login, consent, code, refresh, client credentials,
 * introspection, revocation) at the most talkative log level, no secret appears in any process's
 * output; ES-05: the same "redeem code" and "rotate refresh token" message delivered twice over NATS
 * (at-least-once delivery) mints no second token set; PKCE-A09: a reused code_challenge is logged.
 */
describe('secrets in logs (STORE-04) and redelivered commands (ES-05)', () => {
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };
  const redirectUri = 'https://app.test/cb';
  const user = { username: 'logan', password: 'logan-Secret-password-77' };

  beforeAll(async () => {
    system = await startSystem({ env: { LOG_LEVEL: 'debug' } });
    client = await system.createClient([
      '--name',
      'Log test app',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
      '--redirect-uri',
      redirectUri,
    ]);
    await createUser(system, user.username, user.password);
  }, 120000);

  afterAll(async () => {
    await system?.stop();
  });

  async function codeFor(): Promise<{ code: string; verifier: string }> {
    const { verifier, challenge } = pkcePair();
    const result = await authorize(system, {
      clientId: client.client_id,
      redirectUri,
      scope: 'read',
      codeChallenge: challenge,
      state: 's1',
      ...user,
    });
    expect(result.code).toBeDefined();
    return { code: result.code!, verifier };
  }

  /** A token.grant request as the gateway sends it, straight onto NATS (Nest's NATS envelope). */
  async function grantOverNats(parameters: Record<string, string>, id: string) {
    const subject = `${system.env.NATS_SUBJECT_PREFIX}.token.grant`;
    const nc = await connect({ servers: system.env.NATS_URL! });
    try {
      const message = JSON.stringify({
        pattern: subject,
        id,
        data: {
          context: { correlationId: `es05-${id}` },
          credentials: {
            method: 'client_secret_basic',
            clientId: client.client_id,
            clientSecret: client.client_secret,
          },
          parameters,
        },
      });
      // The same bytes twice: a redelivery, not a new request.
      const first = await nc.request(subject, message, { timeout: 10000 });
      const second = await nc.request(subject, message, { timeout: 10000 });
      return [first, second].map(
        (m) => JSON.parse(m.string()) as { response?: { refresh_token?: string }; err?: { error?: string } },
      );
    } finally {
      await nc.close();
    }
  }

  it('STORE-04: no client secret, password, code, refresh token or Basic header in any output', async () => {
    const auth = { authorization: basic(client.client_id, client.client_secret) };
    const { code, verifier } = await codeFor();
    const exchanged = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
      auth,
    );
    expect(exchanged.status).toBe(200);
    const first = (await exchanged.json()) as { refresh_token: string; access_token: string };
    const refreshed = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      auth,
    );
    expect(refreshed.status).toBe(200);
    const second = (await refreshed.json()) as { refresh_token: string };
    expect(
      (await postForm(`${system.baseUrl}/token`, { grant_type: 'client_credentials', scope: 'read' }, auth))
        .status,
    ).toBe(200);
    // A wrong secret and a replayed code are logged as failures: still without the values.
    expect(
      (
        await postForm(
          `${system.baseUrl}/token`,
          { grant_type: 'client_credentials' },
          { authorization: basic(client.client_id, `${client.client_secret}x`) },
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await postForm(
          `${system.baseUrl}/token`,
          { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
          auth,
        )
      ).status,
    ).toBe(400);
    expect(
      (await postForm(`${system.baseUrl}/introspect`, { token: second.refresh_token }, auth)).status,
    ).toBe(200);
    expect((await postForm(`${system.baseUrl}/revoke`, { token: second.refresh_token }, auth)).status).toBe(
      200,
    );

    // Everything the processes logged for the requests above is written (not: after a while).
    await system.logBarrier();
    const output = [...system.lines.values()].flat().join('\n') + system.output.join('');
    // Debug logging is on and the processes did talk: a search over nothing cannot pass.
    expect(output.length).toBeGreaterThan(1000);
    const basicValue = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
    const secrets = {
      'client secret': client.client_secret,
      password: user.password,
      code,
      'code secret part': code.split('.')[1]!,
      'first refresh token': first.refresh_token.split('.')[1]!,
      'second refresh token': second.refresh_token.split('.')[1]!,
      'Basic credentials': basicValue,
    };
    const found = Object.entries(secrets)
      .filter(([, value]) => output.includes(value))
      .map(([name]) => name);
    // An Authorization header value, in any spelling a logger would print it.
    if (/authorization["']?\s*[:=]\s*["']?basic/i.test(output)) found.push('Authorization: Basic');
    expect(found).toEqual([]);
  }, 120000);

  it('PKCE-A09: the same code_challenge in several authorization requests is logged (RFC 9700 §2.1.1)', async () => {
    const { challenge } = pkcePair();
    const reuse = () =>
      authorize(system, {
        clientId: client.client_id,
        redirectUri,
        scope: 'read',
        codeChallenge: challenge,
        state: 'a09',
        ...user,
      });
    const consentLog = () =>
      (system.lines.get('consent') ?? []).filter((l) => l.includes('code_challenge reused'));
    expect((await reuse()).code).toBeDefined();
    await system.logBarrier();
    expect(consentLog()).toEqual([]);
    expect((await reuse()).code).toBeDefined();
    await system.logBarrier();
    expect(consentLog()).toHaveLength(1);
    expect(consentLog()[0]).toContain(client.client_id);
    expect(consentLog()[0]).not.toContain(challenge);
  }, 60000);

  it('ES-05: a "redeem code" message delivered twice mints one token set; the second is refused', async () => {
    const { code, verifier } = await codeFor();
    const grantId = code.split('.')[0]!;
    const [first, second] = await grantOverNats(
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
      'redeem-1',
    );
    expect(first!.response?.refresh_token).toBeDefined();
    expect(second!.response).toBeUndefined();
    expect(second!.err?.error).toBe('invalid_grant');
    const issued = await eventsOfType<{ grantId?: string }>(system, 'AccessTokenIssued');
    expect(issued.filter((e) => e.data.grantId === grantId)).toHaveLength(1);
  }, 60000);

  it('ES-05: a "rotate refresh token" message delivered twice rotates once; no second pair is minted', async () => {
    const { code, verifier } = await codeFor();
    const grantId = code.split('.')[0]!;
    const exchanged = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
      { authorization: basic(client.client_id, client.client_secret) },
    );
    const { refresh_token } = (await exchanged.json()) as { refresh_token: string };
    const [first, second] = await grantOverNats({ grant_type: 'refresh_token', refresh_token }, 'rotate-1');
    expect(first!.response?.refresh_token).toBeDefined();
    expect(second!.err?.error).toBe('invalid_grant');
    const rotated = await eventsOfType<{ grantId: string }>(system, 'RefreshTokenRotated');
    expect(rotated.filter((e) => e.data.grantId === grantId)).toHaveLength(1);
  }, 60000);
});
