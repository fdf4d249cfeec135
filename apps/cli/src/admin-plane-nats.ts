import type { Config } from '#lib/config';
import {
  type AuditEvent,
  type ClientView,
  type CreateInitialAccessTokenResponse,
  consentDocument,
  type EndSessionResponse,
  type ListSessionsResponse,
  sessionDocument,
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
  userDocument,
  type UserView,
} from '#lib/contracts';
import { clientMetadataDocument, clientSecretExpiresAt } from '#lib/domain-client';
import { type AdminPlane, type ClientInput, type Doc, historyDocument } from './admin-plane.js';
import { adminCommand, withRpc } from './rpc.js';

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
      idTokenSignedResponseAlg: input.idTokenAlg,
      subjectType: input.subjectType,
      sectorIdentifierUri: input.sectorIdentifierUri,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
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

  async eraseUser(sub: string) {
    return userDocument(await this.call<UserView>(Subjects.consent.admin.eraseUser, { sub }));
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

  async sessions(username: string) {
    const r = await this.call<ListSessionsResponse>(Subjects.consent.admin.listSessions, { username });
    return { sub: r.sub, sessions: r.sessions.map(sessionDocument) };
  }

  async endSession(username: string, sid: string) {
    const r = await this.call<EndSessionResponse>(Subjects.consent.admin.endSession, { username, sid });
    return { ended: r.ended };
  }
}
