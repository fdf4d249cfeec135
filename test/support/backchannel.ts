import { selfSignedCertificate, type SelfSignedCertificate } from '#lib/testing';
import { createServer, type Server } from 'node:https';
import { CookieJar } from './authorize.js';
import { registerClient, relyingParty, RP_REDIRECT_URI, signIn } from './relying-party.js';
import type { RunningSystem } from './system.js';

/**
 * A relying party's back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0 §2.5) on
 * 127.0.0.1 over HTTPS: it records every request and answers with the statuses it is given, in
 * turn (the last one repeated), or never answers (`hang`).
 */
export class LogoutReceiver {
  readonly requests: { path: string; contentType: string; body: string; at: number }[] = [];
  connections = 0;
  private server!: Server;
  port = 0;

  constructor(
    private readonly tls: SelfSignedCertificate,
    /** The answers, in turn (the last one repeated); may be changed while running. */
    public statuses: (number | 'hang')[] = [200],
  ) {}

  async start(): Promise<this> {
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const index = this.requests.length;
        this.requests.push({
          path: req.url ?? '',
          contentType: req.headers['content-type'] ?? '',
          body,
          at: Date.now(),
        });
        const status = this.statuses[Math.min(index, this.statuses.length - 1)]!;
        if (status === 'hang') return;
        // A redirect points back at this receiver: the sender must not follow it.
        const location =
          status >= 300 && status < 400 ? { location: `https://localhost:${this.port}/moved` } : {};
        res.writeHead(status, { 'cache-control': 'no-store', ...location }).end();
      });
    });
    this.server.on('connection', () => (this.connections += 1));
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** The `logout_token` parameters received (§2.5: form-encoded). */
  tokens(): string[] {
    return this.requests.map((r) => new URLSearchParams(r.body).get('logout_token') ?? '');
  }

  async waitFor(count: number, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`receiver got ${this.requests.length} of ${count} requests`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

export const backchannelTls = () => selfSignedCertificate();

export async function adminJson<T>(system: RunningSystem, method: string, path: string, body?: unknown) {
  const res = await fetch(`${system.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export interface RegisteredRp {
  client_id: string;
  client_secret: string;
}

/** An OpenID Connect client with a back-channel logout endpoint, registered by the administrator. */
export async function registerRp(
  system: RunningSystem,
  name: string,
  extra: Record<string, unknown>,
): Promise<RegisteredRp> {
  return registerClient(system, {
    client_name: name,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [RP_REDIRECT_URI],
    scope: 'openid',
    ...extra,
  });
}

/**
 * The user signs in to the client with openid-client (strict mode) in the browser session `jar`:
 * the ID token's claims (`sid` among them) and the ID token itself.
 */
export async function signInRp(
  system: RunningSystem,
  rp: RegisteredRp,
  user: { username: string; password: string },
  jar: CookieJar,
) {
  const config = await relyingParty(system, rp);
  const { tokens } = await signIn(system, config, { ...user, scope: 'openid', jar });
  return { idToken: tokens.id_token!, claims: tokens.claims()!, config };
}

export interface HistoryEvent {
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** The session's events (admin API), polled until `done` holds of them. */
export async function sessionHistoryUntil(
  system: RunningSystem,
  sid: string,
  done: (events: HistoryEvent[]) => boolean,
  timeoutMs = 20000,
): Promise<HistoryEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await adminJson<{ events: HistoryEvent[] }>(system, 'GET', `/admin/sessions/${sid}/history`);
    if (res.status === 200 && done(res.body.events)) return res.body.events;
    if (Date.now() > deadline)
      throw new Error(`session history not as expected: ${JSON.stringify(res.body).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** RP-initiated logout with the ID token of the current session (ends it without asking). */
export async function endSessionWithHint(system: RunningSystem, idToken: string, jar: CookieJar) {
  const res = await fetch(`${system.baseUrl}/logout?${new URLSearchParams({ id_token_hint: idToken })}`, {
    redirect: 'manual',
    headers: { cookie: jar.header() },
  });
  jar.take(res);
  return res;
}

export { CookieJar };
