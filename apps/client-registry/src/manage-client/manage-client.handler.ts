import { Inject, Injectable } from '@nestjs/common';
import type { RegistrationPolicyConfig } from '#lib/config';
import type {
  AdminClientRequest,
  AdminUpdateClientRequest,
  ClientManagementRequest,
  ClientPrivilegeRequest,
  ClientView,
  RequestContext,
  UpdateClientRequest,
} from '#lib/contracts';
import { clientView, parseClientMetadataDocument, type RegistrationOrigin } from '#lib/domain-client';
import { invalidRequest } from '#lib/oauth-errors';
import { REGISTRATION_POLICY_CONFIG } from '#lib/service-runtime';
import { ClientRepository, type Loaded } from '../client-store/client.repository.js';
import { administrator, selfService } from '../registration-policy.js';
import { SectorIdentifierFetcher } from '../sector-identifier/sector-identifier.fetcher.js';

type Admitted = { context: RequestContext; actor: string };

/**
 * RFC 7592 read, update and delete by the client itself (its registration access token, its
 * changes held to the registration policy), and an administrator's read, update, disable, delete
 * and privilege grants: one client at a time.
 */
@Injectable()
export class ManageClientHandler {
  constructor(
    private readonly clients: ClientRepository,
    @Inject(REGISTRATION_POLICY_CONFIG) private readonly config: RegistrationPolicyConfig,
    private readonly sectors: SectorIdentifierFetcher,
  ) {}

  // ---- RFC 7592, the client itself

  async readOwn(request: ClientManagementRequest): Promise<ClientView> {
    const { state } = await this.own(request);
    return clientView(state);
  }

  async updateOwn(request: UpdateClientRequest): Promise<ClientView> {
    return this.update(request, await this.own(request), selfService(this.config), this.self(request));
  }

  async deleteOwn(request: ClientManagementRequest): Promise<Record<string, never>> {
    const loaded = await this.own(request);
    await this.clients.execute(
      request.clientId,
      { type: 'DeleteClient', now: new Date() },
      this.self(request),
      loaded,
    );
    return {};
  }

  // ---- an administrator, already admitted

  async read(request: AdminClientRequest): Promise<ClientView> {
    return clientView((await this.clients.load(request.clientId)).state);
  }

  async updateAsAdministrator(request: AdminUpdateClientRequest, by: Admitted): Promise<ClientView> {
    return this.update(request, await this.clients.load(request.clientId), administrator(this.config), by);
  }

  async disable(request: AdminClientRequest, by: Admitted): Promise<ClientView> {
    const state = await this.clients.execute(
      request.clientId,
      { type: 'DisableClient', now: new Date() },
      by,
    );
    return clientView(state);
  }

  async delete(request: AdminClientRequest, by: Admitted): Promise<Record<string, never>> {
    await this.clients.execute(request.clientId, { type: 'DeleteClient', now: new Date() }, by);
    return {};
  }

  async grantScope(request: ClientPrivilegeRequest, by: Admitted): Promise<ClientView> {
    const command = {
      type: 'GrantClientPrivilege' as const,
      scope: String(request.scope),
      privilegedScopes: this.config.privilegedScopes,
      now: new Date(),
    };
    return clientView(await this.clients.execute(request.clientId, command, by));
  }

  async revokeScope(request: ClientPrivilegeRequest, by: Admitted): Promise<ClientView> {
    const command = { type: 'RevokeClientPrivilege' as const, scope: String(request.scope), now: new Date() };
    return clientView(await this.clients.execute(request.clientId, command, by));
  }

  private own(request: ClientManagementRequest): Promise<Loaded> {
    return this.clients.loadWithRegistrationAccessToken(request.clientId, request.registrationAccessToken);
  }

  private self(request: ClientManagementRequest): Admitted {
    return { context: request.context, actor: `client:${request.clientId}` };
  }

  private async update(
    request: { clientId: string; document: unknown },
    loaded: Loaded,
    origin: RegistrationOrigin,
    by: Admitted,
  ): Promise<ClientView> {
    const doc = request.document as Record<string, unknown> | null;
    // RFC 7592 §2.2: the body's client_id MUST match the one in the URL.
    if (
      typeof doc === 'object' &&
      doc !== null &&
      doc.client_id !== undefined &&
      doc.client_id !== request.clientId
    )
      throw invalidRequest('client_id does not match');
    const metadata = parseClientMetadataDocument(request.document);
    const sectorRedirectUris = await this.sectors.redirectUrisAt(metadata.sectorIdentifierUri);
    const state = await this.clients.execute(
      request.clientId,
      {
        type: 'UpdateClient',
        origin,
        ...metadata,
        ...(sectorRedirectUris === undefined ? {} : { sectorRedirectUris }),
        now: new Date(),
      },
      by,
      loaded,
    );
    return clientView(state);
  }
}
