import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CorsOriginsResponse, ListClientsRequest, ListClientsResponse } from '#lib/contracts';
import { CLIENTS, type ClientRow, clientsProjection } from '#lib/domain-client';
import { type EventStore, ProjectionRows, ProjectionRunner } from '#lib/event-store';
import { invalidRequest } from '#lib/oauth-errors';
import { DATA_SOURCE, EVENT_STORE } from '#lib/service-runtime';
import type { DataSource } from 'typeorm';

/** The `clients` read model (the current clients), paged by client_id for the admin API. */
@Injectable()
export class ClientsProjectionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runner: ProjectionRunner;
  private readonly rows: ProjectionRows;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EVENT_STORE) store: EventStore,
  ) {
    this.runner = new ProjectionRunner(dataSource, store, [clientsProjection], { batchSize: 500 });
    this.rows = new ProjectionRows(dataSource);
  }

  onApplicationBootstrap(): void {
    this.runner.start(500);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  async list(request: ListClientsRequest): Promise<ListClientsResponse> {
    const limit = request.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest('limit must be 1 to 100');
    if (request.after !== undefined && (typeof request.after !== 'string' || request.after.length > 256))
      throw invalidRequest('malformed cursor');
    await this.runner.catchUp();
    const page = await this.rows.page<ClientRow>(CLIENTS, request.after, limit);
    const response: ListClientsResponse = { clients: page.map((p) => p.row) };
    if (page.length === limit) response.next = page[page.length - 1]!.key;
    return response;
  }

  /** OAuth 2.1 §3.2, RFC 9700 §2.6: CORS origins are those of active public clients' redirect URIs. */
  async corsOrigins(): Promise<CorsOriginsResponse> {
    await this.runner.catchUp();
    const rows: { uris: string[] | null }[] = await this.dataSource.query(
      `SELECT doc->'redirectUris' AS uris FROM projection_rows
       WHERE projection = $1 AND doc->>'tokenEndpointAuthMethod' = 'none' AND doc->>'status' = 'active'`,
      [CLIENTS],
    );
    const origins = new Set<string>();
    for (const { uris } of rows) {
      for (const uri of uris ?? []) {
        try {
          const { origin, protocol } = new URL(uri);
          if (protocol === 'https:' || protocol === 'http:') origins.add(origin);
        } catch {
          // not a URL a browser could be at
        }
      }
    }
    return { origins: [...origins].sort() };
  }
}
