/** Reading one setting from the environment: the helpers every slice of the configuration uses. */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function str(env: Env, key: string, fallback: string): string {
  const v = env[key];
  return v === undefined || v === '' ? fallback : v;
}

export function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

export function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

export function required(env: Env, key: string, purpose: string): string {
  const v = env[key];
  if (v === undefined || v === '') {
    throw new ConfigError(`${key} is not set: ${purpose}. \`npm start\` generates one in .data/secrets.env.`);
  }
  return v;
}

export function key32(env: Env, key: string, purpose: string): Buffer {
  const raw = required(env, key, purpose);
  const buf = Buffer.from(raw, 'base64url');
  if (buf.length !== 32) throw new ConfigError(`${key} must be 32 bytes, base64url-encoded (${purpose})`);
  return buf;
}

export function words(raw: string | undefined): string[] {
  return [...new Set((raw ?? '').split(/[\s,]+/).filter(Boolean))];
}

export function checkIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`ISSUER must be an absolute URL, got "${issuer}"`);
  }
  // RFC 8414 §2: no query or fragment components.
  // An empty `?` or `#` is still a query or fragment component, though URL reports it as ''.
  if (url.search || url.hash || /[?#]/.test(issuer))
    throw new ConfigError('ISSUER must not have a query or fragment');
  return issuer.replace(/\/+$/, '');
}
