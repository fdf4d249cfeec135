import { CONFIG_SLICES, configSlice } from './slices.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import type { SigningKeyConfig } from './tokens.js';

const key = (byte: number) => Buffer.alloc(32, byte).toString('base64url');

describe('configuration slices: a service receives its part and nothing else', () => {
  const env = { ISSUER: 'https://as.example', SECRET_HASH_KEYS: `h1:${key(1)}` };

  it('a slice holds exactly its keys, with the values the configuration read', () => {
    const config = loadConfig(env);
    const consent = configSlice<Record<string, unknown>>(config, CONFIG_SLICES.consent);
    expect(Object.keys(consent).sort()).toEqual([...CONFIG_SLICES.consent].sort());
    expect(consent.issuer).toBe('https://as.example');
    expect(consent.authorizationCodeTtlSeconds).toBe(config.authorizationCodeTtlSeconds);
    expect('databaseUrl' in consent).toBe(false);
    expect('secretHashKeys' in consent).toBe(false);
    expect(Object.isFrozen(consent)).toBe(true);
  });

  it('a secret is still read only when used: a slice that holds one does not require it', () => {
    const config = loadConfig(env);
    const tokens = configSlice<SigningKeyConfig>(config, CONFIG_SLICES.tokens);
    expect(tokens.signingAlg).toBe('ES256');
    expect(() => tokens.keyEncryptionKey).toThrow(ConfigError);
    const hashing = configSlice<Pick<Config, 'secretHashKeys'>>(config, CONFIG_SLICES.secretHashing);
    expect(hashing.secretHashKeys.current.kid).toBe('h1');
  });

  it('every key of every slice is a key of the configuration', () => {
    const config = loadConfig(env) as unknown as Record<string, unknown>;
    const known = new Set([...Object.keys(config), ...Object.getOwnPropertyNames(config)]);
    for (const [name, keys] of Object.entries(CONFIG_SLICES)) {
      for (const k of keys) expect([name, known.has(k)]).toEqual([name, true]);
    }
  });
});
