import { jest } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashSecret } from '#lib/domain-client';
import { hashGrantToken } from '#lib/domain-grant';
import { authorize, pkcePair } from '../support/authorize.js';
import { basic, postForm, type RunningSystem, startSystem } from '../support/system.js';

/**
 * The event stream is read by whoever the operator lets consume it (a SIEM, a data team): an
 * attacker there reads every message of a whole run and looks for what would let them log in,
 * call an API or name a person (RFC 6819 §5.1.4.1.3: credentials are not kept in the clear where
 * they are not needed; the project's rule: password hashes and personal data never leave in a
 * published message).
 */
jest.setTimeout(180000);

const lastLine = (out: string) => out.trim().split('\n').pop()!;

/** The event types this run appends: each one's messages are searched. */
const EXERCISED = [
  'AccessTokenIssued',
  'AccessTokenRevoked',
  'AuthorizationCodeIssued',
  'AuthorizationCodeRedeemed',
  'ClientRegistered',
  'ClientSecretRotated',
  'ConsentGranted',
  'GrantRevoked',
  'InitialAccessTokenCreated',
  'RefreshTokenIssued',
  'RefreshTokenRotated',
  'SigningKeyActivated',
  'SigningKeyGenerated',
  'SigningKeyRetired',
  'UserAuthenticated',
  'UserCreated',
  'UserLoginFailed',
  'UserPasswordChanged',
  'UsernameClaimed',
];

interface StoredMessage {
  seq: number;
  text: string;
}

/** Every message of the system's event stream once it holds as many as the events table has rows. */
async function everyMessage(system: RunningSystem): Promise<{ messages: StoredMessage[]; rows: number }> {
  const db = new pg.Client({ connectionString: system.database.url });
  await db.connect();
  const nc = await connect({ servers: system.env.NATS_URL! });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = system.env.EVENTS_STREAM!;
    const deadline = Date.now() + 20000;
    for (;;) {
      const rows = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
      const info = await jsm.streams.info(stream);
      if (info.state.messages >= rows || Date.now() > deadline) {
        const messages: StoredMessage[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await jsm.streams.getMessage(stream, { seq });
          if (!m) continue;
          const headers = m.header ? [...m.header.keys()].map((k) => `${k}: ${m.header.get(k)}`) : [];
          messages.push({
            seq,
            text: [m.subject, ...headers, new TextDecoder().decode(m.data)].join('\n'),
          });
        }
        return { messages, rows };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await nc.close();
    await db.end();
  }
}

describe('published events (checklist PRIV-12)', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem();
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  it('PRIV-12: no message of a full run carries a password hash, secret, code, token, stored hash or personal data', async () => {
    const keys = system.secretHashKeys;
    const tag = randomBytes(6).toString('hex');
    /** Bearer secrets and their stored HMAC forms: none may be in any message. */
    const secrets: { what: string; value: string }[] = [];
    const secret = (what: string, value: string, hash?: (v: string) => string) => {
      secrets.push({ what, value });
      if (hash) secrets.push({ what: `${what} (stored HMAC)`, value: hash(value) });
    };
    const clientSecret = (what: string, value: string) => secret(what, value, (v) => hashSecret(v, keys));
    const grantToken = (what: string, value: string) => secret(what, value, (v) => hashGrantToken(v, keys));

    // A resource owner with a password, an email address and a name, through the CLI.
    const person = {
      username: `zoe.${tag}`,
      email: `zoe.${tag}@mail.example`,
      name: `Zoe Quillfeather ${tag}`,
    };
    const firstPassword = `first-Pass-${randomBytes(9).toString('base64url')}`;
    const password = `second-Pass-${randomBytes(9).toString('base64url')}`;
    secret('first password', firstPassword);
    secret('password', password);
    await system.cli([
      'users',
      'create',
      person.username,
      '--password',
      firstPassword,
      '--email',
      person.email,
      '--name',
      person.name,
      '--json',
    ]);
    await system.cli(['users', 'set-password', person.username, '--password', password]);

    // A confidential client for the code flow, and a failed then a successful login with consent.
    const redirectUri = 'https://app.example/cb';
    const app = await system.createClient([
      '--name',
      'Publishing test app',
      '--grant',
      'authorization_code',
      '--grant',
      'refresh_token',
      '--scope',
      'read',
      '--redirect-uri',
      redirectUri,
    ]);
    clientSecret('code-flow client secret', app.client_secret);
    const appAuth = { authorization: basic(app.client_id, app.client_secret) };
    const pkce = pkcePair();
    secret('PKCE verifier', pkce.verifier);
    await expect(
      authorize(system, {
        clientId: app.client_id,
        redirectUri,
        scope: 'read',
        codeChallenge: pkce.challenge,
        username: person.username,
        password: firstPassword,
      }),
    ).rejects.toThrow(/login refused/);
    const authorized = await authorize(system, {
      clientId: app.client_id,
      redirectUri,
      scope: 'read',
      codeChallenge: pkce.challenge,
      username: person.username,
      password,
    });
    expect(authorized.consentShown).toBe(true);
    grantToken('authorization code', authorized.code!);
    for (const [name, value] of authorized.jar.cookies) secret(`cookie ${name}`, value);

    // Redeem the code, refresh.
    const redeemed = await postForm(
      `${system.baseUrl}/token`,
      {
        grant_type: 'authorization_code',
        code: authorized.code!,
        redirect_uri: redirectUri,
        code_verifier: pkce.verifier,
      },
      appAuth,
    );
    expect(redeemed.status).toBe(200);
    const pair = (await redeemed.json()) as { access_token: string; refresh_token: string };
    secret('access token (code)', pair.access_token);
    grantToken('refresh token', pair.refresh_token);
    const refreshed = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'refresh_token', refresh_token: pair.refresh_token },
      appAuth,
    );
    expect(refreshed.status).toBe(200);
    const rotated = (await refreshed.json()) as { access_token: string; refresh_token: string };
    secret('access token (refresh)', rotated.access_token);
    grantToken('rotated refresh token', rotated.refresh_token);
    // Introspection still names the user (RFC 7662 §2.2 `username`): read from the store, since
    // the token_state projection is fed from the stream, which carries no personal data.
    const introspected = await postForm(
      `${system.baseUrl}/introspect`,
      { token: rotated.access_token },
      appAuth,
    );
    expect(await introspected.json()).toMatchObject({ active: true, username: person.username });

    // Client credentials.
    const service = await system.createClient([
      '--name',
      'Publishing test service',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
    clientSecret('service client secret', service.client_secret);
    const cc = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      { authorization: basic(service.client_id, service.client_secret) },
    );
    expect(cc.status).toBe(200);
    const ccToken = ((await cc.json()) as { access_token: string }).access_token;
    secret('access token (client credentials)', ccToken);

    // RFC 7591 registration with an initial access token.
    const iat = (
      JSON.parse(lastLine(await system.cli(['clients', 'initial-access-token', '--json']))) as {
        initial_access_token: string;
      }
    ).initial_access_token;
    clientSecret('initial access token', iat);
    const registration = await fetch(`${system.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` },
      body: JSON.stringify({
        client_name: 'Self-registered',
        grant_types: ['client_credentials'],
        scope: 'read',
        contacts: [`ops.${tag}@mail.example`],
      }),
    });
    expect(registration.status).toBe(201);
    const registered = (await registration.json()) as {
      client_id: string;
      client_secret: string;
      registration_access_token: string;
    };
    clientSecret('registered client secret', registered.client_secret);
    clientSecret('registration access token', registered.registration_access_token);

    // Rotate a secret, rotate the signing key, revoke.
    const rotatedSecret = (
      JSON.parse(lastLine(await system.cli(['clients', 'rotate-secret', service.client_id, '--json']))) as {
        client_secret: string;
      }
    ).client_secret;
    clientSecret('rotated client secret', rotatedSecret);
    await system.cli(['keys', 'rotate', '--now']);
    const cc2 = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      { authorization: basic(service.client_id, rotatedSecret) },
    );
    expect(cc2.status).toBe(200);
    const ccToken2 = ((await cc2.json()) as { access_token: string }).access_token;
    secret('access token (new key)', ccToken2);
    const revokeAccess = await postForm(
      `${system.baseUrl}/revoke`,
      { token: ccToken2 },
      { authorization: basic(service.client_id, rotatedSecret) },
    );
    expect(revokeAccess.status).toBe(200);
    const revokeRefresh = await postForm(
      `${system.baseUrl}/revoke`,
      { token: rotated.refresh_token },
      appAuth,
    );
    expect(revokeRefresh.status).toBe(200);

    // What the store holds that must stay there: password hashes and sealed private keys.
    const db = new pg.Client({ connectionString: system.database.url });
    await db.connect();
    let stored: { type: string; data: Record<string, unknown> }[];
    try {
      stored = (
        await db.query<{ type: string; data: Record<string, unknown> }>('SELECT type, data FROM events')
      ).rows;
    } finally {
      await db.end();
    }
    const passwordHashes = stored.flatMap((e) =>
      typeof e.data.passwordHash === 'string' ? [e.data.passwordHash] : [],
    );
    expect(passwordHashes).toHaveLength(2);
    for (const h of passwordHashes) secrets.push({ what: 'password hash', value: h });
    const sealed = stored.flatMap((e) =>
      e.type === 'SigningKeyGenerated' ? [JSON.stringify(e.data.sealedPrivateJwk)] : [],
    );
    expect(sealed.length).toBeGreaterThanOrEqual(2);
    for (const s of sealed) secrets.push({ what: 'sealed private key', value: s });
    for (const token of secrets.filter((s) => s.what.startsWith('access token'))) {
      secrets.push({ what: `${token.what}, signature`, value: token.value.split('.')[2]! });
    }
    const personal = [
      { what: 'username', value: person.username },
      {
        what: 'username (lower-cased, base64url, as in its stream id)',
        value: Buffer.from(person.username.toLowerCase()).toString('base64url'),
      },
      { what: 'email', value: person.email },
      { what: 'name', value: person.name },
      { what: 'client contact', value: `ops.${tag}@mail.example` },
    ];

    const { messages, rows } = await everyMessage(system);
    // A search over nothing must not pass: every stored event was searched.
    expect(messages.length).toBe(rows);
    const types = new Set(
      messages.map((m) => (JSON.parse(m.text.split('\n').pop()!) as { type: string }).type),
    );
    expect([...types].sort()).toEqual(expect.arrayContaining(EXERCISED));
    const found = messages.flatMap(({ seq, text }) => [
      ...(text.includes('$argon2') ? [`message ${seq}: $argon2`] : []),
      ...[...secrets, ...personal]
        .filter(({ value }) => value.length >= 8 && text.includes(value))
        .map(({ what }) => `message ${seq}: ${what}`),
    ]);
    expect(found).toEqual([]);
  });
});
