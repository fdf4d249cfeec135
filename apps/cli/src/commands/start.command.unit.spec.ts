import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeyset } from '#lib/keysets';
import { APPS, withoutSecretsFor } from './start.command.js';

const key = () => Buffer.alloc(32, 1).toString('base64url');
const env = {
  DATABASE_URL: 'postgres://db',
  SECRET_HASH_KEYS: `h1:${key()}`,
  COOKIE_SEALING_KEYS: `c1:${key()}`,
  CSRF_KEYS: `x1:${key()}`,
  SECRET_PEPPER: key(),
  KEY_ENCRYPTION_KEY: key(),
  PAIRWISE_SUBJECT_KEY: key(),
  PERSONAL_DATA_KEY: key(),
  ADMIN_TOKEN: 'a'.repeat(32),
  NATS_PASSWORD_TOKEN: 'n',
  ISSUER: 'http://127.0.0.1:8080',
};
const secretsOf = (app: (typeof APPS)[number], e: Record<string, string> = env) =>
  Object.keys(withoutSecretsFor(app, e))
    .filter((k) => k !== 'ISSUER')
    .sort();

describe('npm start gives each process only the secrets it uses (issue 20)', () => {
  it('the HTTP listeners get no service secret and no key', () => {
    expect(secretsOf('gateway')).toEqual([]);
    expect(secretsOf('admin')).toEqual([]);
  });

  it('only the consent service gets the cookie and CSRF keys; only the token service the key-encryption key; the pairwise subject key only token and introspection', () => {
    expect(secretsOf('consent')).toEqual([
      'ADMIN_TOKEN',
      'COOKIE_SEALING_KEYS',
      'CSRF_KEYS',
      'DATABASE_URL',
      'PERSONAL_DATA_KEY',
      'SECRET_HASH_KEYS',
    ]);
    expect(secretsOf('token')).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'KEY_ENCRYPTION_KEY',
      'PAIRWISE_SUBJECT_KEY',
      'SECRET_HASH_KEYS',
    ]);
    expect(secretsOf('client-registry')).toEqual(['ADMIN_TOKEN', 'DATABASE_URL', 'SECRET_HASH_KEYS']);
    expect(secretsOf('introspection')).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'PAIRWISE_SUBJECT_KEY',
      'SECRET_HASH_KEYS',
    ]);
  });

  it('the legacy SECRET_PEPPER goes only where a keyset still uses it (p0, or unset)', () => {
    const legacy = { ...env, SECRET_HASH_KEYS: `h1:${key()},p0` };
    expect(secretsOf('token', legacy)).toContain('SECRET_PEPPER');
    expect(secretsOf('consent', legacy)).toContain('SECRET_PEPPER');
    const cookiesOnly: Record<string, string> = { ...env, CSRF_KEYS: '' };
    expect(secretsOf('consent', cookiesOnly)).toContain('SECRET_PEPPER');
    expect(secretsOf('token', cookiesOnly)).not.toContain('SECRET_PEPPER');
    expect(secretsOf('gateway', legacy)).toEqual([]);
  });
});

describe('.data/secrets.env (npm start)', () => {
  const before = process.env.SECRETS_FILE;
  afterAll(() => {
    if (before === undefined) delete process.env.SECRETS_FILE;
    else process.env.SECRETS_FILE = before;
  });
  const load = async (file: string) => {
    process.env.SECRETS_FILE = file;
    const { loadDevSecrets } = await import(`../secrets-file.js?${Math.random()}`);
    return (loadDevSecrets as (o: { create: boolean }) => Record<string, string>)({ create: true });
  };

  it('a new installation gets one key per purpose and no SECRET_PEPPER', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secrets-')), 'secrets.env');
    const secrets = await load(file);
    for (const setting of ['SECRET_HASH_KEYS', 'COOKIE_SEALING_KEYS', 'CSRF_KEYS']) {
      const keys = parseKeyset(secrets[setting], { setting });
      expect(keys.kids).toHaveLength(1);
      expect(keys.current.kid).toMatch(/^[hcx]\d{8}$/);
    }
    expect(secrets.SECRET_PEPPER).toBeUndefined();
    // OpenID Connect Core §8.1: a pairwise client can sign a user in on the dev start path.
    expect(Buffer.from(secrets.PAIRWISE_SUBJECT_KEY, 'base64url')).toHaveLength(32);
    expect(readFileSync(file, 'utf8')).toContain('SECRET_HASH_KEYS=');
  });

  it('a file from before keys per purpose keeps its SECRET_PEPPER accepted as p0 beside the new keys', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secrets-')), 'secrets.env');
    writeFileSync(file, `SECRET_PEPPER=${key()}\n`);
    const secrets = await load(file);
    expect(secrets.SECRET_PEPPER).toBe(key());
    const keys = parseKeyset(secrets.SECRET_HASH_KEYS, {
      setting: 'SECRET_HASH_KEYS',
      legacyKey: Buffer.alloc(32, 1),
    });
    expect(keys.kids).toEqual([expect.stringMatching(/^h\d{8}$/), 'p0']);
  });
});
