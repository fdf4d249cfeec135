import type { AuditEvent } from '#lib/contracts';
import { OAuthError, type OAuthErrorCode } from '#lib/oauth-errors';
import { type AdminPlane, type ClientInput, type Doc, historyDocument } from './admin-plane.js';
import { CliError } from './output.js';

/** `--admin-url`: the admin listener's base (http://host:port), with or without `/admin`. */
export function adminBase(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CliError(`--admin-url (ADMIN_URL) is not a URL: ${JSON.stringify(url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new CliError(`--admin-url (ADMIN_URL) must be an http: or https: URL, got ${base.protocol}`);
  if (base.username || base.password)
    throw new CliError(
      '--admin-url (ADMIN_URL) must not hold credentials: give the token with --admin-token',
    );
  base.search = '';
  base.hash = '';
  base.pathname = `${base.pathname.replace(/\/+$/, '').replace(/\/admin$/, '')}/admin/`;
  return base;
}

/** Whether a token sent to `base` crosses a network in clear (plain http to another host). */
export function inClear(base: URL): boolean {
  return base.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(base.hostname);
}

/**
 * Over the admin listener (apps/admin, ADMIN_HTTP_PORT) with a bearer token (RFC 6750 §2.1). Path
 * segments are percent-encoded, so an id cannot name another resource; redirects are refused, so
 * the token goes to the named listener only.
 */
export class HttpAdminPlane implements AdminPlane {
  constructor(
    private readonly base: URL,
    private readonly token: string,
    private readonly timeoutMs = 15000,
  ) {}

  private where(): string {
    return this.base.origin;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.base);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        redirect: 'error',
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(
        `cannot reach the admin API at ${this.where()} (--admin-url / ADMIN_URL): ${reason}. Check the ` +
          'address and port (ADMIN_HTTP_PORT of apps/admin, 8070 in deploy/) and that this host reaches ' +
          'the admin listener (from outside a cluster: kubectl -n authz port-forward svc/admin 8070:8070).',
      );
    }
    if (res.status === 204) return undefined;
    const text = await res.text();
    let doc: unknown;
    try {
      doc = text === '' ? undefined : JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (!res.ok) {
      const e = doc as { error?: unknown; error_description?: unknown } | undefined;
      if (typeof e?.error === 'string') {
        throw new OAuthError(
          e.error as OAuthErrorCode,
          typeof e.error_description === 'string' ? e.error_description : '',
          { status: res.status },
        );
      }
      throw new CliError(
        `the admin API at ${this.where()} answered ${method} ${url.pathname} with ${res.status}`,
      );
    }
    if (doc === undefined || typeof doc !== 'object' || doc === null)
      throw new CliError(`the admin API at ${this.where()} answered ${url.pathname} with no JSON document`);
    return doc;
  }

  /** One path segment; `.` and `..` would name another resource (RFC 3986 §5.2.4). */
  private seg(value: string): string {
    if (value === '.' || value === '..') throw new CliError(`not a valid id: ${value}`);
    return encodeURIComponent(value);
  }

  async createClient(input: ClientInput): Promise<Doc> {
    if (input.id !== undefined)
      throw new CliError(
        '--id (an operator-chosen client_id) is not offered by the admin API, which generates ids; ' +
          'run `clients create --id` with direct NATS access (docs/operations.md, "Running the CLI in a cluster")',
      );
    const doc: Doc = {
      client_name: input.name,
      grant_types: input.grants,
      scope: input.scope.join(' '),
      ...(input.defaultScope ? { default_scope: input.defaultScope.join(' ') } : {}),
      ...(input.audience ? { audience: input.audience } : {}),
      ...(input.redirectUris ? { redirect_uris: input.redirectUris } : {}),
      ...(input.jwksUri ? { jwks_uri: input.jwksUri } : {}),
      ...(input.authMethod ? { token_endpoint_auth_method: input.authMethod } : {}),
      ...(input.idTokenAlg ? { id_token_signed_response_alg: input.idTokenAlg } : {}),
      ...(input.subjectType ? { subject_type: input.subjectType } : {}),
      ...(input.sectorIdentifierUri ? { sector_identifier_uri: input.sectorIdentifierUri } : {}),
      ...(input.postLogoutRedirectUris ? { post_logout_redirect_uris: input.postLogoutRedirectUris } : {}),
    };
    return (await this.call('POST', 'clients', doc)) as Doc;
  }

  async listClients(limit: number, after?: string) {
    const q = new URLSearchParams({ limit: String(limit), ...(after ? { after } : {}) });
    return (await this.call('GET', `clients?${q}`)) as { clients: Doc[]; next: string | null };
  }

  async showClient(id: string) {
    return (await this.call('GET', `clients/${this.seg(id)}`)) as Doc;
  }

  async updateClient(id: string, document: unknown) {
    return (await this.call('PUT', `clients/${this.seg(id)}`, document)) as Doc;
  }

  async rotateSecret(id: string, graceSeconds: number) {
    return (await this.call('POST', `clients/${this.seg(id)}/rotate-secret`, {
      grace_seconds: graceSeconds,
    })) as Doc;
  }

  async disableClient(id: string) {
    return (await this.call('POST', `clients/${this.seg(id)}/disable`)) as Doc;
  }

  async deleteClient(id: string) {
    await this.call('DELETE', `clients/${this.seg(id)}`);
  }

  async clientHistory(id: string) {
    const events: AuditEvent[] = [];
    let after: number | null = null;
    do {
      const q = new URLSearchParams({ limit: '500', ...(after === null ? {} : { after: String(after) }) });
      const page = (await this.call('GET', `clients/${this.seg(id)}/history?${q}`)) as {
        events: AuditEvent[];
        next: number | null;
      };
      events.push(...page.events);
      after = page.next;
    } while (after !== null);
    return historyDocument({ clientId: id, events, next: null });
  }

  async grantScope(id: string, scope: string) {
    return (await this.call('POST', `clients/${this.seg(id)}/privileged-scopes`, { scope })) as Doc;
  }

  async revokeScope(id: string, scope: string) {
    return (await this.call('DELETE', `clients/${this.seg(id)}/privileged-scopes/${this.seg(scope)}`)) as Doc;
  }

  async createInitialAccessToken(options: { ttlSeconds?: number; maxUses?: number }) {
    return (await this.call('POST', 'initial-access-tokens', {
      ...(options.ttlSeconds === undefined ? {} : { ttl_seconds: options.ttlSeconds }),
      ...(options.maxUses === undefined ? {} : { max_uses: options.maxUses }),
    })) as Doc;
  }

  async listInitialAccessTokens() {
    return (await this.call('GET', 'initial-access-tokens')) as { initial_access_tokens: Doc[] };
  }

  async revokeInitialAccessToken(id: string) {
    await this.call('DELETE', `initial-access-tokens/${this.seg(id)}`);
    const { initial_access_tokens } = await this.listInitialAccessTokens();
    const token = initial_access_tokens.find((t) => t.id === id);
    if (!token) throw new CliError(`initial access token ${id} was revoked but is no longer listed`);
    return token;
  }

  async createUser(user: { username: string; password: string; email?: string; name?: string }) {
    return (await this.call('POST', 'users', user)) as Doc;
  }

  async listUsers(limit: number, after?: string) {
    const q = new URLSearchParams({ limit: String(limit), ...(after ? { after } : {}) });
    return (await this.call('GET', `users?${q}`)) as { users: Doc[]; next: string | null };
  }

  /** The admin API names users by `sub`; the CLI by username, found in the list. */
  private async subOf(username: string): Promise<string> {
    let after: string | undefined;
    for (;;) {
      const page = await this.listUsers(100, after);
      const found = page.users.find((u) => u.username === username);
      if (found) return String(found.sub);
      if (page.next === null) throw new OAuthError('not_found', `no user named ${username}`);
      after = page.next;
    }
  }

  private async user(method: string, username: string, suffix = '', body?: unknown): Promise<Doc> {
    const sub = await this.subOf(username);
    return (await this.call(method, `users/${this.seg(sub)}${suffix}`, body)) as Doc;
  }

  showUser(username: string) {
    return this.user('GET', username);
  }

  disableUser(username: string) {
    return this.user('POST', username, '/disable');
  }

  enableUser(username: string) {
    return this.user('POST', username, '/enable');
  }

  async eraseUser(sub: string) {
    return (await this.call('POST', `users/${this.seg(sub)}/erase`)) as Doc;
  }

  setPassword(username: string, password: string) {
    return this.user('POST', username, '/password', { password });
  }

  consents(username: string) {
    return this.user('GET', username, '/consents');
  }

  revokeConsent(username: string, clientId: string) {
    return this.user('DELETE', username, `/consents/${this.seg(clientId)}`);
  }

  sessions(username: string) {
    return this.user('GET', username, '/sessions');
  }

  endSession(username: string, sid: string) {
    return this.user('DELETE', username, `/sessions/${this.seg(sid)}`);
  }
}
