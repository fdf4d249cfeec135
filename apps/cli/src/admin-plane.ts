import { auditEventDocument, type AuditEvent, type TokenEndpointAuthMethod } from '#lib/contracts';

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
  /** OpenID Connect Registration §2. */
  idTokenAlg?: 'RS256' | 'ES256' | 'EdDSA';
  subjectType?: 'public' | 'pairwise';
  sectorIdentifierUri?: string;
  postLogoutRedirectUris?: string[];
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
  /** GDPR Art. 17 erasure, by sub (an erased user has no username left). */
  eraseUser(sub: string): Promise<Doc>;
  setPassword(username: string, password: string): Promise<Doc>;
  consents(username: string): Promise<Doc>;
  revokeConsent(username: string, clientId: string): Promise<Doc>;
  sessions(username: string): Promise<Doc>;
  endSession(username: string, sid: string): Promise<Doc>;
}

/** A client's events as the admin API's history document. */
export function historyDocument(h: { clientId: string; events: AuditEvent[]; next: number | null }): Doc {
  return { client_id: h.clientId, events: h.events.map(auditEventDocument), next: h.next };
}
