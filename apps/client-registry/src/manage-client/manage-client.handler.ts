import { Injectable } from '@nestjs/common';
import type { ClientManagementRequest, ClientView, UpdateClientRequest } from '#lib/contracts';
import { clientView, parseClientMetadataDocument } from '#lib/domain-client';
import { invalidRequest } from '#lib/oauth-errors';
import { ClientRepository } from '../client-store/client.repository.js';

/** RFC 7592 read, update and delete, and the operator's disable: one client at a time. */
@Injectable()
export class ManageClientHandler {
  constructor(private readonly clients: ClientRepository) {}

  async read(request: ClientManagementRequest): Promise<ClientView> {
    const { state } = await this.clients.loadAuthorized(request.clientId, request.authorization);
    return clientView(state);
  }

  async update(request: UpdateClientRequest): Promise<ClientView> {
    const loaded = await this.clients.loadAuthorized(request.clientId, request.authorization);
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
    const state = await this.clients.execute(
      request.clientId,
      { type: 'UpdateClient', ...metadata, now: new Date() },
      request,
      loaded,
    );
    return clientView(state);
  }

  async disable(request: ClientManagementRequest): Promise<ClientView> {
    const loaded = await this.clients.loadAuthorized(request.clientId, request.authorization);
    const state = await this.clients.execute(
      request.clientId,
      { type: 'DisableClient', now: new Date() },
      request,
      loaded,
    );
    return clientView(state);
  }

  async delete(request: ClientManagementRequest): Promise<Record<string, never>> {
    const loaded = await this.clients.loadAuthorized(request.clientId, request.authorization);
    await this.clients.execute(request.clientId, { type: 'DeleteClient', now: new Date() }, request, loaded);
    return {};
  }
}
