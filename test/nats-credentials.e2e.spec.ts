import { connect } from '@nats-io/transport-node';
import { startPrivateNatsServer, type PrivateNatsServer } from '#lib/testing';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Checklist ES-06: on a NATS that requires credentials, the services connect with theirs
 * (NATS_USER / NATS_PASSWORD) and work, while a connection without credentials, or with wrong ones,
 * is refused, so nobody else can publish to or subscribe on the internal subjects. (TLS to NATS is
 * configured with NATS_TLS_*; see docs/operations.md.)
 */
describe('NATS with credentials (checklist ES-06)', () => {
  const user = 'authz-services';
  const password = 'nats-Secret-4b7e1d0a9c';
  let nats: PrivateNatsServer;
  let system: RunningSystem;

  beforeAll(async () => {
    nats = await startPrivateNatsServer(['--user', user, '--pass', password]);
    system = await startSystem({
      natsUrl: `nats://${nats.servers}`,
      env: { NATS_USER: user, NATS_PASSWORD: password },
    });
  }, 120000);

  afterAll(async () => {
    await system?.stop();
    await nats?.dispose();
  });

  it('ES-06: the services work over the authenticated connection', async () => {
    const client = await system.createClient([
      '--name',
      'svc',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      { authorization: basic(client.client_id, client.client_secret) },
    );
    expect(res.status).toBe(200);
  }, 60000);

  it.each([
    ['without credentials', {}],
    ['with a wrong password', { user, pass: 'wrong-password' }],
  ])('ES-06: a connection %s is refused, so internal subjects cannot be reached', async (_n, auth) => {
    await expect(
      connect({ servers: nats.servers, maxReconnectAttempts: 0, timeout: 3000, ...auth }),
    ).rejects.toThrow(/authorization/i);
  });
});
