import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashGrantToken } from '#lib/domain-grant';
import type { RunningSystem } from './system.js';

/**
 * A browserless user agent for the authorization code flow: GET /authorize, the login form, the
 * consent page (skipped when the consent is remembered), and the redirect to the client, with
 * cookies kept between the steps. Other suites use it to get codes; the login and consent pages
 * themselves are checked in a real browser by test/authorization-code-browser.e2e.spec.ts.
 */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri?: string;
  scope?: string;
  codeChallenge?: string;
  state?: string;
  username: string;
  password: string;
  resource?: string | string[];
  /** Extra query parameters (sent as given). */
  extra?: Record<string, string>;
  /** Keep the login session between calls (remembered login). */
  jar?: CookieJar;
  decision?: 'allow' | 'deny';
}

export interface AuthorizeResult {
  /** The redirect to the client (RFC 6749 §4.1.2). */
  location: string;
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
  errorDescription?: string;
  loginShown: boolean;
  consentShown: boolean;
  jar: CookieJar;
}

/** RFC 7636 §4.1, §4.2: a fresh verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The value of a hidden input of a rendered form. */
export function hiddenField(html: string, name: string): string {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  if (!m) throw new Error(`no hidden field ${name} in:\n${html.slice(0, 2000)}`);
  return m[1]!
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

export function authorizeUrl(
  system: RunningSystem,
  o: Omit<AuthorizeOptions, 'username' | 'password'>,
): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: o.clientId });
  if (o.redirectUri !== undefined) q.set('redirect_uri', o.redirectUri);
  if (o.scope !== undefined) q.set('scope', o.scope);
  if (o.codeChallenge !== undefined) {
    q.set('code_challenge', o.codeChallenge);
    q.set('code_challenge_method', 'S256');
  }
  if (o.state !== undefined) q.set('state', o.state);
  for (const r of [o.resource ?? []].flat()) q.append('resource', r);
  for (const [k, v] of Object.entries(o.extra ?? {})) q.set(k, v);
  return `${system.baseUrl}/authorize?${q.toString()}`;
}

async function get(url: string, jar: CookieJar): Promise<Response> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.take(res);
  return res;
}

export async function postPage(
  system: RunningSystem,
  path: string,
  form: Record<string, string>,
  jar: CookieJar,
  headers: Record<string, string> = {},
): Promise<Response> {
  const res = await fetch(`${system.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(), ...headers },
    body: new URLSearchParams(form).toString(),
  });
  jar.take(res);
  return res;
}

const isOurs = (system: RunningSystem, location: string) =>
  location.startsWith('/') || location.startsWith(system.baseUrl);
const absolute = (system: RunningSystem, location: string) =>
  location.startsWith('/') ? `${system.baseUrl}${location}` : location;

function parseRedirect(
  location: string,
): Pick<AuthorizeResult, 'code' | 'state' | 'iss' | 'error' | 'errorDescription'> {
  const q = new URL(location).searchParams;
  const out: Pick<AuthorizeResult, 'code' | 'state' | 'iss' | 'error' | 'errorDescription'> = {};
  if (q.has('code')) out.code = q.get('code')!;
  if (q.has('state')) out.state = q.get('state')!;
  if (q.has('iss')) out.iss = q.get('iss')!;
  if (q.has('error')) out.error = q.get('error')!;
  if (q.has('error_description')) out.errorDescription = q.get('error_description')!;
  return out;
}

/** Drives the whole front channel and returns the client's redirect. */
export async function authorize(system: RunningSystem, o: AuthorizeOptions): Promise<AuthorizeResult> {
  const jar = o.jar ?? new CookieJar();
  let loginShown = false;
  let consentShown = false;
  let res = await get(authorizeUrl(system, o), jar);
  for (let step = 0; step < 6; step++) {
    if (res.status === 303 || res.status === 302) {
      const location = res.headers.get('location')!;
      if (!isOurs(system, location))
        return { location, ...parseRedirect(location), loginShown, consentShown, jar };
      res = await get(absolute(system, location), jar);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200 && res.status !== 429)
      throw new Error(`authorize: ${res.status}\n${html.slice(0, 1500)}`);
    if (html.includes('action="/login"')) {
      if (loginShown) throw new Error(`login refused:\n${html.slice(0, 1500)}`);
      loginShown = true;
      res = await postPage(
        system,
        '/login',
        {
          tx: hiddenField(html, 'tx'),
          csrf: hiddenField(html, 'csrf'),
          username: o.username,
          password: o.password,
        },
        jar,
      );
    } else if (html.includes('action="/authorize/consent"')) {
      consentShown = true;
      res = await postPage(
        system,
        '/authorize/consent',
        { tx: hiddenField(html, 'tx'), csrf: hiddenField(html, 'csrf'), decision: o.decision ?? 'allow' },
        jar,
      );
    } else {
      throw new Error(`authorize: unexpected page\n${html.slice(0, 1500)}`);
    }
  }
  throw new Error('authorize: too many steps');
}

/** A resource owner, created through the CLI (`users create`). */
export async function createUser(
  system: RunningSystem,
  username: string,
  password: string,
  email?: string,
): Promise<{ sub: string; username: string }> {
  const out = await system.cli([
    'users',
    'create',
    username,
    '--password',
    password,
    ...(email ? ['--email', email] : []),
    '--json',
  ]);
  return JSON.parse(out.trim().split('\n').pop()!) as { sub: string; username: string };
}

/** Events of one type in the system's event store (grey-box checks). */
export async function eventsOfType<Data = Record<string, unknown>>(
  system: RunningSystem,
  type: string,
): Promise<{ streamId: string; data: Data; metadata: Record<string, unknown> }[]> {
  const pool = new pg.Pool({ connectionString: system.database.url, max: 1 });
  try {
    const { rows } = await pool.query<{ stream_id: string; data: Data; metadata: Record<string, unknown> }>(
      `SELECT stream_id, data, metadata FROM events WHERE type = $1 ORDER BY global_position`,
      [type],
    );
    return rows.map((r) => ({ streamId: r.stream_id, data: r.data, metadata: r.metadata }));
  } finally {
    await pool.end();
  }
}

/** The AuthorizationCodeIssued event of a code (its hash under SECRET_HASH_KEYS), or undefined. */
export async function codeIssuedEvent(system: RunningSystem, code: string) {
  const hash = hashGrantToken(code, system.secretHashKeys);
  return (
    await eventsOfType<{ codeHash: string; [k: string]: unknown }>(system, 'AuthorizationCodeIssued')
  ).find((e) => e.data.codeHash === hash);
}
