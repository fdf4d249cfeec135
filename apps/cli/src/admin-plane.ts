import type { Config } from '#lib/config';
import {
  auditEventDocument,
  type AuditEvent,
  type ClientView,
  type CreateInitialAccessTokenResponse,
  consentDocument,
  initialAccessTokenDocument,
  type InitialAccessTokenView,
  type ListConsentsResponse,
  type ListClientsResponse,
  type ListInitialAccessTokensResponse,
  type ListUsersResponse,
  type RegisterClientRequest,
  type RegisterClientResponse,
  type RevokeConsentResponse,
  type RotateClientSecretResponse,
  Subjects,
  type TokenEndpointAuthMethod,
  userDocument,
  type UserView,
} from '#lib/contracts';
import { clientMetadataDocument, clientSecretExpiresAt } from '#lib/domain-client';
import { OAuthError, type OAuthErrorCode } from '#lib/oauth-errors';
import { CliError } from './output.js';
import { adminCommand, withRpc } from './rpc.js';

/** A JSON document as the admin API represents it (snake_case members). */
export type Doc = Record<string, unknown>;

export interface ClientInput {
  name: string;
  grants: string[];
  scope: string[];
  defaultScope?: string[];
  audience?: string[];
  redirectUris?: string[];
  jwksUri?: string;
  authMethod?: TokenEndpointAuthMethod;
  id?: string;
}

export interface Page<K extends string> {
  items: Doc[];
  next: string | null;
  key: K;
}

/**
 * The administrative operations the CLI offers over clients, initial access tokens and users,
 * each answering the admin API's document: over NATS (inside the cluster, as the CLI's bus user)
 * or over the admin listener's HTTP API (from anywhere that reaches it, with an admin token).
 */
export interface AdminPlane {
  createClient(input: ClientInput): Promise<Doc>;
  listClients(limit: number, after?: string): Promise<{ clients: Doc[]; next: string | null }>;
  showClient(id: string): Promise<Doc>;
  updateClient(id: string, document: unknown): Promise<Doc>;
  rotateSecret(id: string, graceSeconds: number): Promise<Doc>;
  disableClient(id: string): Promise<Doc>;
  deleteClient(id: string): Promise<void>;
  clientHistory(id: string): Promise<Doc>;
  grantScope(id: string, scope: string): Promise<Doc>;
  revokeScope(id: string, scope: string): Promise<Doc>;
  createInitialAccessToken(options: { ttlSeconds?: number; maxUses?: number }): Promise<Doc>;
  listInitialAccessTokens(): Promise<{ initial_access_tokens: Doc[] }>;
  revokeInitialAccessToken(id: string): Promise<Doc>;
  createUser(user: { username: string; password: string; email?: string; name?: string }): Promise<Doc>;
  listUsers(limit: number, after?: string): Promise<{ users: Doc[]; next: string | null }>;
  showUser(username: string): Promise<Doc>;
  disableUser(username: string): Promise<Doc>;
  enableUser(username: string): Promise<Doc>;
  setPassword(username: string, password: string): Promise<Doc>;
  consents(username: string): Promise<Doc>;
  revokeConsent(username: string, clientId: string): Promise<Doc>;
}

function historyDocument(h: { clientId: string; events: AuditEvent[]; next: number | null }): Doc {
  return { client_id: h.clientId, events: h.events.map(auditEventDocument), next: h.next };
}

/** Over NATS, as the CLI's bus user; the credential travels with each command. */
export class NatsAdminPlane implements AdminPlane {
  constructor(private readonly config: Config) {}

  private call<T>(subject: string, payload: object = {}): Promise<T> {
    const admin = adminCommand(this.config);
    return withRpc(this.config, (rpc) => rpc.request<T>(subject, { ...admin, ...payload }));
  }

  async createClient(input: ClientInput): Promise<Doc> {
    const request: Omit<RegisterClientRequest, 'context' | 'credential'> = {
      clientName: input.name,
      grantTypes: input.grants,
      scope: input.scope,
      defaultScope: input.defaultScope,
      audience: input.audience,
      tokenEndpointAuthMethod: input.authMethod,
      clientId: input.id,
      redirectUris: input.redirectUris,
      jwksUri: input.jwksUri,
    };
    const result = await this.call<RegisterClientResponse>(Subjects.client.admin.register, request);
    return {
      ...clientMetadataDocument(result.client),
      ...(result.clientSecret === undefined ? {} : { client_secret: result.clientSecret }),
    };
  }

  async listClients(limit: number, after?: string) {
    const page = await this.call<ListClientsResponse>(Subjects.client.admin.list, { limit, after });
    return { clients: page.clients.map(clientMetadataDocument), next: page.next ?? null };
  }

  async showClient(clientId: string) {
    return clientMetadataDocument(await this.call<ClientView>(Subjects.client.admin.read, { clientId }));
  }

  async updateClient(clientId: string, document: unknown) {
    const view = await this.call<ClientView>(Subjects.client.admin.update, { clientId, document });
    return clientMetadataDocument(view);
  }

  async rotateSecret(clientId: string, graceSeconds: number) {
    const r = await this.call<RotateClientSecretResponse>(Subjects.client.admin.rotateSecret, {
      clientId,
      graceSeconds,
    });
    return {
      client_id: r.clientId,
      client_secret: r.clientSecret,
      client_secret_expires_at: clientSecretExpiresAt(r.secretExpiresAt),
    };
  }

  async disableClient(clientId: string) {
    return clientMetadataDocument(await this.call<ClientView>(Subjects.client.admin.disable, { clientId }));
  }

  async deleteClient(clientId: string) {
    await this.call<unknown>(Subjects.client.admin.delete, { clientId });
  }

  async clientHistory(clientId: string) {
    return historyDocument(
      await this.call<{ clientId: string; events: AuditEvent[]; next: number | null }>(
        Subjects.client.admin.history,
        { clientId },
      ),
    );
  }

  async grantScope(clientId: string, scope: string) {
    const view = await this.call<ClientView>(Subjects.client.admin.grantScope, { clientId, scope });
    return clientMetadataDocument(view);
  }

  async revokeScope(clientId: string, scope: string) {
    const view = await this.call<ClientView>(Subjects.client.admin.revokeScope, { clientId, scope });
    return clientMetadataDocument(view);
  }

  async createInitialAccessToken(options: { ttlSeconds?: number; maxUses?: number }) {
    const r = await this.call<CreateInitialAccessTokenResponse>(
      Subjects.client.admin.createInitialAccessToken,
      options,
    );
    return { initial_access_token: r.initialAccessToken, ...initialAccessTokenDocument(r.token) };
  }

  async listInitialAccessTokens() {
    const r = await this.call<ListInitialAccessTokensResponse>(Subjects.client.admin.listInitialAccessTokens);
    return { initial_access_tokens: r.initialAccessTokens.map(initialAccessTokenDocument) };
  }

  async revokeInitialAccessToken(id: string) {
    return initialAccessTokenDocument(
      await this.call<InitialAccessTokenView>(Subjects.client.admin.revokeInitialAccessToken, { id }),
    );
  }

  async createUser(user: { username: string; password: string; email?: string; name?: string }) {
    return userDocument(await this.call<UserView>(Subjects.consent.admin.createUser, user));
  }

  async listUsers(limit: number, after?: string) {
    const page = await this.call<ListUsersResponse>(Subjects.consent.admin.listUsers, {
      limit,
      ...(after ? { after } : {}),
    });
    return { users: page.users.map(userDocument), next: page.next ?? null };
  }

  async showUser(username: string) {
    return userDocument(await this.call<UserView>(Subjects.consent.admin.getUser, { username }));
  }

  async disableUser(username: string) {
    return userDocument(await this.call<UserView>(Subjects.consent.admin.disableUser, { username }));
  }

  async enableUser(username: string) {
    return userDocument(await this.call<UserView>(Subjects.consent.admin.enableUser, { username }));
  }

  async setPassword(username: string, password: string) {
    return userDocument(
      await this.call<UserView>(Subjects.consent.admin.setPassword, { username, password }),
    );
  }

  async consents(username: string) {
    const r = await this.call<ListConsentsResponse>(Subjects.consent.admin.listConsents, { username });
    return { sub: r.sub, consents: r.consents.map(consentDocument) };
  }

  async revokeConsent(username: string, clientId: string) {
    const r = await this.call<RevokeConsentResponse>(Subjects.consent.admin.revokeConsent, {
      username,
      clientId,
    });
    return { revoked: r.revoked, grants_revoked: r.grantsRevoked };
  }
}

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

  setPassword(username: string, password: string) {
    return this.user('POST', username, '/password', { password });
  }

  consents(username: string) {
    return this.user('GET', username, '/consents');
  }

  revokeConsent(username: string, clientId: string) {
    return this.user('DELETE', username, `/consents/${this.seg(clientId)}`);
  }
}
