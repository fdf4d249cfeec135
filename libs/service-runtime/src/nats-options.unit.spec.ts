import { loadConfig } from '#lib/config';
import { natsAuth, natsConnectionOptions } from './nats-options.js';

describe('NATS connection options: credentials and TLS (issue 8)', () => {
  it('plain TCP without credentials by default', () => {
    expect(natsAuth(loadConfig({}))).toEqual({ user: undefined, pass: undefined, token: undefined });
  });

  it('user/password or token, and TLS with the CA and an optional client certificate', () => {
    const config = loadConfig({
      NATS_URL: 'tls://nats:4222',
      NATS_USER: 'authz',
      NATS_PASSWORD: 'pw',
      NATS_TLS_CA_FILE: '/etc/nats-tls/ca.crt',
      NATS_TLS_CERT_FILE: '/etc/nats-tls/tls.crt',
      NATS_TLS_KEY_FILE: '/etc/nats-tls/tls.key',
    });
    expect(natsConnectionOptions(config, 'token')).toMatchObject({
      servers: ['tls://nats:4222'],
      name: 'token',
      user: 'authz',
      pass: 'pw',
      tls: {
        caFile: '/etc/nats-tls/ca.crt',
        certFile: '/etc/nats-tls/tls.crt',
        keyFile: '/etc/nats-tls/tls.key',
      },
    });
    expect(natsAuth(loadConfig({ NATS_TOKEN: 't', NATS_TLS_CA_FILE: '/ca.crt' }))).toEqual({
      user: undefined,
      pass: undefined,
      token: 't',
      tls: { caFile: '/ca.crt' },
    });
  });
});
